"""Release one package: bump its version, date its changelog, commit and tag.

``hatch run release context-email minor`` takes ``context-email`` from 0.1.0
to 0.2.0 in ``pyproject.toml`` and ``__init__.py``, moves the Unreleased
entries of its ``CHANGELOG.md`` under ``## [0.2.0] - <today>``, commits those
three files and nothing else, and tags the commit ``context-email-v0.2.0``.
It refuses a working tree with uncommitted changes, so the release commit
holds exactly the release. Nothing is pushed: the last line says how.
"""

import argparse
import sys
from datetime import date

from devtools.changelog import release_notes
from devtools.packages import (
    DISTRIBUTIONS,
    ROOT,
    Package,
    ReleaseError,
    exit_on_release_error,
    find,
)
from devtools.vcs import git, tag_exists, uncommitted_changes

PARTS = ("major", "minor", "patch")


def bump(version: str, part: str) -> str:
    """Return ``version`` with its ``part`` raised and the parts after it zeroed."""
    major, minor, patch = (int(number) for number in version.split("."))
    if part == "major":
        return f"{major + 1}.0.0"
    if part == "minor":
        return f"{major}.{minor + 1}.0"
    return f"{major}.{minor}.{patch + 1}"


def release(package: Package, part: str, *, today: date | None = None) -> str:
    """Release ``package`` with its ``part`` bumped; return the new tag."""
    changes = uncommitted_changes(package.root)
    if changes:
        raise ReleaseError(
            f"the working tree has uncommitted changes ({changes[0].strip()}, "
            f"{len(changes)} in all); commit or stash them, then release"
        )
    version = bump(package.version(), part)
    tag = package.tag(version)
    if tag_exists(package.root, tag):
        raise ReleaseError(f"tag {tag} exists already; bump another part")

    notes = release_notes(package.changelog.read_text(), version, today or date.today())
    files = [*package.version_files, package.changelog]
    originals = {path: path.read_text() for path in files}
    try:
        package.set_version(version)
        package.changelog.write_text(notes)
        paths = [str(path.relative_to(package.root)) for path in files]
        git(package.root, "commit", "--quiet", "-m",
            f"Release {package.distribution} {version}", "--", *paths)
    except ReleaseError:
        for path, text in originals.items():
            path.write_text(text)
        raise
    message = f"{package.distribution} {version}"
    git(package.root, "tag", "--annotate", "-m", message, tag)
    return tag


def main(argv: list[str] | None = None) -> None:
    """Release the package named on the command line."""
    parser = argparse.ArgumentParser(prog="release", description=__doc__.split("\n")[0])
    parser.add_argument("package", help=f"one of {', '.join(DISTRIBUTIONS)}")
    parser.add_argument("part", help="which part of the version to bump: "
                        + ", ".join(PARTS))
    args = parser.parse_args(argv)

    with exit_on_release_error():
        if args.part not in PARTS:
            raise ReleaseError(
                f"cannot bump {args.part!r}; choose one of {', '.join(PARTS)}"
            )
        package = find(args.package, root=ROOT)
        tag = release(package, args.part)
        commit = git(package.root, "rev-parse", "--short", "HEAD")
    print(f"Released {package.distribution} {package.version()}: "
          f"commit {commit}, tag {tag}")
    print(f"Publish it with: git push origin HEAD {tag}")
    if package.distribution == "shared-kernel":
        print(f"Then raise each context's shared-kernel lower bound to >="
              f"{package.version()}, so each is tested with the kernel it allows")


if __name__ == "__main__":
    main(sys.argv[1:])
