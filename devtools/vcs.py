"""The few git operations the release commands need, with one-line errors."""

import subprocess
from pathlib import Path

from devtools.packages import ReleaseError


def git(root: Path, *args: str) -> str:
    """Run ``git <args>`` in ``root`` and return its output, stripped."""
    try:
        result = subprocess.run(
            ["git", *args], cwd=root, capture_output=True, text=True, check=False
        )
    except FileNotFoundError:
        raise ReleaseError("git is not on PATH; install git") from None
    if result.returncode != 0:
        reason = (result.stderr.strip() or result.stdout.strip()).splitlines()
        raise ReleaseError(f"git {args[0]} failed: {reason[-1] if reason else '?'}")
    return result.stdout.strip()


def is_repository(root: Path) -> bool:
    return (root / ".git").exists()


def tag_exists(root: Path, tag: str) -> bool:
    result = subprocess.run(
        ["git", "rev-parse", "--quiet", "--verify", f"refs/tags/{tag}"],
        cwd=root, capture_output=True, check=False,
    )
    return result.returncode == 0


def uncommitted_changes(root: Path, *paths: str) -> list[str]:
    """Return ``git status`` lines of changed or untracked files under ``paths``."""
    return git(root, "status", "--porcelain", "--", *paths).splitlines()
