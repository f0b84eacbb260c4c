"""The packages of the workspace: where each lives, its version and its tags.

Each package under ``packages/`` is versioned and released on its own. Its
version is the static ``version`` of its ``pyproject.toml``, repeated as
``__version__`` in its ``__init__.py``; its release tags are
``<distribution>-v<version>``, e.g. ``context-email-v0.2.0``.
"""

import re
import sys
import tomllib
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
DISTRIBUTIONS = ("shared-kernel", "context-email", "context-data", "context-report")

_VERSION = r"\d+\.\d+\.\d+"
_PYPROJECT_VERSION = re.compile(rf'^version = "({_VERSION})"$', re.MULTILINE)
_INIT_VERSION = re.compile(rf'^__version__ = "({_VERSION})"$', re.MULTILINE)
_TAG = re.compile(rf"^(?P<distribution>[a-z][a-z-]*)-v(?P<version>{_VERSION})$")


class ReleaseError(Exception):
    """Raised when a release command cannot do what it was asked; says why."""


@contextmanager
def exit_on_release_error() -> Iterator[None]:
    """Turn a ``ReleaseError`` into one ``error:`` line and exit code 2."""
    try:
        yield
    except ReleaseError as error:
        print(f"error: {error}", file=sys.stderr)
        raise SystemExit(2) from None


@dataclass(frozen=True)
class Package:
    """One distribution of the workspace, in the repository at ``root``."""

    distribution: str
    root: Path = ROOT

    @property
    def folder(self) -> Path:
        return self.root / "packages" / self.distribution

    @property
    def import_name(self) -> str:
        return self.distribution.replace("-", "_")

    @property
    def version_files(self) -> tuple[Path, Path]:
        """The files that state the version: ``pyproject.toml`` and ``__init__.py``."""
        init = self.folder / "src" / self.import_name / "__init__.py"
        return self.folder / "pyproject.toml", init

    @property
    def changelog(self) -> Path:
        return self.folder / "CHANGELOG.md"

    def version(self) -> str:
        """Return the package's version, once both files that state it agree."""
        pyproject, init = self.version_files
        declared = tomllib.loads(pyproject.read_text())["project"]["version"]
        found = _INIT_VERSION.search(init.read_text())
        if found is None or found[1] != declared:
            stated = found[1] if found else "nothing"
            raise ReleaseError(
                f"{self.distribution}: pyproject.toml says {declared} but "
                f"{init.relative_to(self.root)} says {stated}; make them equal"
            )
        return declared

    def set_version(self, version: str) -> None:
        """Write ``version`` into both files that state it."""
        pyproject, init = self.version_files
        for path, pattern in ((pyproject, _PYPROJECT_VERSION), (init, _INIT_VERSION)):
            text, count = pattern.subn(
                lambda match: match[0].replace(match[1], version), path.read_text()
            )
            if count != 1:
                raise ReleaseError(f"{path}: found {count} version lines, expected 1")
            path.write_text(text)

    def tag(self, version: str) -> str:
        return f"{self.distribution}-v{version}"


def find(name: str, *, root: Path = ROOT) -> Package:
    """Return the package called ``name`` (its distribution name)."""
    if name not in DISTRIBUTIONS:
        raise ReleaseError(
            f"no package is called {name!r}; choose one of {', '.join(DISTRIBUTIONS)}"
        )
    return Package(name, root)


def from_tag(tag: str, *, root: Path = ROOT) -> tuple[Package, str]:
    """Return the package a release tag names, and the version it names."""
    match = _TAG.match(tag)
    if match is None or match["distribution"] not in DISTRIBUTIONS:
        raise ReleaseError(
            f"{tag!r} is not a release tag; expected <package>-v<major.minor.patch>, "
            f"e.g. context-email-v0.2.0, with a package among "
            f"{', '.join(DISTRIBUTIONS)}"
        )
    return Package(match["distribution"], root), match["version"]


def every_package(*, root: Path = ROOT) -> list[Package]:
    """Return every package, the kernel first."""
    return [Package(name, root) for name in DISTRIBUTIONS]
