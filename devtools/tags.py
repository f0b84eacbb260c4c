"""Check that a release tag and the package's version in the checkout agree.

``hatch run check-tag context-email-v0.2.0`` exits 0 when the checkout holds
that release of ``context-email``, and otherwise with one line that says what
disagrees. Run it on a checkout of the tag, before building for publication;
``build-tag`` runs it first. It reads the files, not git's history, so it also
works in an export without ``.git``; where the tag exists in git, the package's
folder must also equal the tagged one, so what is built is what was tagged.
"""

import argparse
import sys
from pathlib import Path

from devtools.packages import (
    ROOT,
    Package,
    ReleaseError,
    exit_on_release_error,
    from_tag,
)
from devtools.vcs import git, is_repository, tag_exists, uncommitted_changes


def check_tag(tag: str, *, root: Path = ROOT) -> Package:
    """Return the package ``tag`` names, when the checkout holds that release."""
    package, version = from_tag(tag, root=root)
    current = package.version()
    if current != version:
        raise ReleaseError(
            f"tag {tag} names version {version}, but {package.distribution} is at "
            f"{current} here (packages/{package.distribution}/pyproject.toml); "
            f"check out the tag, or release with: hatch run release "
            f"{package.distribution} <major|minor|patch>"
        )
    if is_repository(root) and tag_exists(root, tag):
        _check_unchanged_since(tag, package)
    return package


def _check_unchanged_since(tag: str, package: Package) -> None:
    folder = f"packages/{package.distribution}"
    changed = git(package.root, "diff", "--name-only", tag, "--", folder)
    untracked = [line for line in uncommitted_changes(package.root, folder)
                 if line.startswith("??")]
    if changed or untracked:
        first = (changed.splitlines() or [line[3:] for line in untracked])[0]
        raise ReleaseError(
            f"{folder} differs from tag {tag} (e.g. {first}); "
            f"build from a clean checkout of the tag: git checkout {tag}"
        )


def main(argv: list[str] | None = None) -> None:
    """Exit 0 when the tag matches the checkout, else with one ``error:`` line."""
    parser = argparse.ArgumentParser(prog="check-tag",
                                     description=__doc__.split("\n")[0])
    parser.add_argument("tag", help="a release tag, e.g. context-email-v0.2.0")
    args = parser.parse_args(argv)

    with exit_on_release_error():
        package = check_tag(args.tag)
    print(f"{args.tag}: {package.distribution} {package.version()} in the checkout")


if __name__ == "__main__":
    main(sys.argv[1:])
