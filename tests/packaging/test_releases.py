"""Releasing one package: version bump, dated changelog, a commit and a tag of its own.

The commands run in a temporary clone of this repository, as the hatch
scripts run them (``python -m devtools.<tool>`` from the repository's root).
"""

import os
import sys
import tomllib
from datetime import date
from pathlib import Path

import pytest

from devtools.changelog import release_notes
from devtools.packages import ReleaseError
from devtools.release import bump
from tests.packaging.conftest import GIT_IDENTITY, run

ENTRY = "- Report emails name the dataset in their subject."


def tool(clone: Path, module: str, *args: str):
    # Hatch keeps a build environment per project folder: keep the clone's
    # beside the clone, so it goes with it.
    env = dict(os.environ, **GIT_IDENTITY, HATCH_DATA_DIR=str(clone.parent / "hatch"))
    return run([sys.executable, "-m", f"devtools.{module}", *args], cwd=clone, env=env)


def git(clone: Path, *args: str) -> str:
    result = run(["git", *args], cwd=clone, env=dict(os.environ, **GIT_IDENTITY))
    assert result.returncode == 0, result.stderr
    return result.stdout.strip()


def version_of(clone: Path, distribution: str) -> str:
    pyproject = clone / "packages" / distribution / "pyproject.toml"
    return tomllib.loads(pyproject.read_text())["project"]["version"]


def one_error_line(result) -> str:
    assert result.returncode == 2, result.stdout + result.stderr
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("error: "), result.stderr
    return lines[0]


@pytest.fixture
def released(repo_clone) -> Path:
    """The clone after ``release context-email minor``, with one changelog entry."""
    changelog = repo_clone / "packages" / "context-email" / "CHANGELOG.md"
    changelog.write_text(changelog.read_text().replace(
        "## [Unreleased]\n", f"## [Unreleased]\n\n### Changed\n{ENTRY}\n", 1))
    git(repo_clone, "commit", "--quiet", "-am", "Describe an email change")
    located = run([sys.executable, "-c", "import devtools; print(devtools.__file__)"],
                  cwd=repo_clone)
    assert located.stdout.startswith(str(repo_clone)), "the tools must be the clone's"

    result = tool(repo_clone, "release", "context-email", "minor")

    assert result.returncode == 0, result.stdout + result.stderr
    assert "tag context-email-v0.2.0" in result.stdout
    return repo_clone


def test_a_release_bumps_commits_and_tags_only_that_package(released):
    email = released / "packages" / "context-email"
    changed = git(released, "diff", "--name-only", "HEAD~1", "HEAD").splitlines()
    changelog = (email / "CHANGELOG.md").read_text()

    assert git(released, "describe", "--exact-match", "HEAD") == "context-email-v0.2.0"
    assert git(released, "tag", "--list") == "context-email-v0.2.0"
    assert sorted(changed) == [
        "packages/context-email/CHANGELOG.md",
        "packages/context-email/pyproject.toml",
        "packages/context-email/src/context_email/__init__.py",
    ]
    assert version_of(released, "context-email") == "0.2.0"
    init = email / "src" / "context_email" / "__init__.py"
    assert '__version__ = "0.2.0"' in init.read_text()
    assert f"## [Unreleased]\n\n## [0.2.0] - {date.today().isoformat()}\n" in changelog
    assert changelog.index(ENTRY) > changelog.index("## [0.2.0]")
    assert all(version_of(released, other) == "0.1.0"
               for other in ("shared-kernel", "context-data", "context-report"))
    assert git(released, "status", "--porcelain") == ""


def test_check_tag_passes_for_the_release_and_fails_on_a_mismatch(released):
    git(released, "tag", "context-data-v0.3.0")

    assert tool(released, "tags", "context-email-v0.2.0").returncode == 0
    stale = one_error_line(tool(released, "tags", "context-email-v0.1.0"))
    other = one_error_line(tool(released, "tags", "context-data-v0.3.0"))
    unknown = one_error_line(tool(released, "tags", "context-billing-v1.0.0"))

    assert "names version 0.1.0, but context-email is at 0.2.0" in stale
    assert "names version 0.3.0, but context-data is at 0.1.0" in other
    assert "not a release tag" in unknown


def test_build_tag_builds_only_the_tagged_package(released):
    out = released / "dist"

    result = tool(released, "build", "--tag", "context-email-v0.2.0", "--out", str(out))

    assert result.returncode == 0, result.stdout + result.stderr
    assert sorted(path.name for path in out.iterdir()) == [
        "context_email-0.2.0-py3-none-any.whl", "context_email-0.2.0.tar.gz",
    ]


def test_build_tag_refuses_a_package_changed_since_its_tag(released):
    module = released / "packages/context-email/src/context_email/api.py"
    module.write_text(module.read_text() + "\n# changed after the release\n")

    error = one_error_line(tool(released, "build", "--tag", "context-email-v0.2.0"))

    assert "packages/context-email differs from tag context-email-v0.2.0" in error
    assert not (released / "dist").exists()


def test_release_refuses_a_dirty_tree_and_an_unknown_package(repo_clone):
    (repo_clone / "packages/context-data/README.md").write_text("# edited\n")

    dirty = one_error_line(tool(repo_clone, "release", "context-data", "patch"))
    unknown = one_error_line(tool(repo_clone, "release", "context-billing", "patch"))

    assert "uncommitted changes" in dirty and "README.md" in dirty
    assert "no package is called 'context-billing'" in unknown
    assert git(repo_clone, "tag", "--list") == ""
    assert version_of(repo_clone, "context-data") == "0.1.0"


def test_release_refuses_a_package_with_nothing_unreleased(repo_clone):
    error = one_error_line(tool(repo_clone, "release", "context-report", "patch"))

    assert "nothing is listed under '## [Unreleased]'" in error
    assert git(repo_clone, "status", "--porcelain") == ""
    assert git(repo_clone, "tag", "--list") == ""


@pytest.mark.parametrize(("part", "expected"),
                         [("major", "1.0.0"), ("minor", "0.3.0"), ("patch", "0.2.4")])
def test_bumping_a_part_zeroes_the_parts_after_it(part, expected):
    assert bump("0.2.3", part) == expected


def test_release_notes_keep_an_empty_unreleased_section_on_top():
    text = ("# Changelog\n\n## [Unreleased]\n\n### Fixed\n- A.\n\n"
            "## [0.1.0] - 2026-01-02\n")

    notes = release_notes(text, "0.1.1", date(2026, 2, 3))

    assert notes == ("# Changelog\n\n## [Unreleased]\n\n## [0.1.1] - 2026-02-03\n\n"
                     "### Fixed\n- A.\n\n## [0.1.0] - 2026-01-02\n")
    with pytest.raises(ReleaseError, match="already has a section"):
        release_notes(notes.replace("## [Unreleased]\n", "## [Unreleased]\n- B.\n"),
                      "0.1.1", date(2026, 2, 3))
