"""Build the wheel and the sdist of every package, or of the one a tag names.

``hatch run build-all`` builds the four packages into ``dist/``, eight files;
``hatch run build-tag context-email-v0.2.0`` first checks that the checkout
holds that release (``devtools.tags``), then builds that package alone. Each
package is built by ``hatch build`` in its own folder, so its metadata names
only what its own ``pyproject.toml`` declares: version ranges, no paths.
"""

import argparse
import os
import shutil
import subprocess
import sys
from collections.abc import Iterable
from pathlib import Path

from devtools.packages import (
    ROOT,
    Package,
    ReleaseError,
    every_package,
    exit_on_release_error,
)
from devtools.tags import check_tag


def build(packages: Iterable[Package], out_dir: Path) -> list[Path]:
    """Build each package's wheel and sdist into ``out_dir``; return the files.

    Files an earlier build left there for the same packages are removed first,
    so the folder holds one wheel and one sdist per package built.
    """
    hatch = shutil.which("hatch")
    if hatch is None:
        raise ReleaseError("hatch is not on PATH; install it with: pip install hatch")
    out_dir = out_dir.resolve()
    out_dir.mkdir(parents=True, exist_ok=True)
    # Inside `hatch run` or `hatch test`, Hatch names the active environment;
    # a nested `hatch build` would take it for its build environment.
    env = {k: v for k, v in os.environ.items() if k != "HATCH_ENV_ACTIVE"}

    built: list[Path] = []
    for package in packages:
        for stale in _artifacts(package, out_dir):
            stale.unlink()
        result = subprocess.run(
            [hatch, "build", "--target", "wheel", "--target", "sdist", str(out_dir)],
            cwd=package.folder, env=env, capture_output=True, text=True, check=False,
        )
        if result.returncode != 0:
            raise ReleaseError(
                f"hatch build failed for {package.distribution}:\n"
                f"{result.stdout}{result.stderr}"
            )
        built += _artifacts(package, out_dir)
    return built


def _artifacts(package: Package, out_dir: Path) -> list[Path]:
    names = (f"{package.import_name}-*.whl", f"{package.import_name}-*.tar.gz")
    return sorted(path for name in names for path in out_dir.glob(name))


def main(argv: list[str] | None = None) -> None:
    """Build every package, or with ``--tag`` the package of one release."""
    parser = argparse.ArgumentParser(prog="build", description=__doc__.split("\n")[0])
    parser.add_argument("--tag", help="build only the package this release tag names")
    parser.add_argument("--out", type=Path, default=ROOT / "dist",
                        help="the folder for the built files (default: dist/)")
    args = parser.parse_args(argv)

    with exit_on_release_error():
        packages = [check_tag(args.tag)] if args.tag else every_package()
        files = build(packages, args.out)
    for path in files:
        print(path)


if __name__ == "__main__":
    main(sys.argv[1:])
