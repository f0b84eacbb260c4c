"""Built wheels, fresh virtual environments and git clones for the packaging tests.

The four packages are built once per session by the ``build-all`` command; the
per-context virtual environments are made once per session from those wheels
by the install script the images run.
"""

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
BIN = Path(sys.executable).parent
CONTEXTS = ("email", "data", "report")
INSTALL_SCRIPT = ROOT / "services" / "install-context.sh"
GIT_IDENTITY = {
    "GIT_AUTHOR_NAME": "Release Test", "GIT_AUTHOR_EMAIL": "release@example.com",
    "GIT_COMMITTER_NAME": "Release Test", "GIT_COMMITTER_EMAIL": "release@example.com",
}


def run(args: list, *, cwd: Path = ROOT, env: dict | None = None,
        timeout_s: float = 120) -> subprocess.CompletedProcess:
    """Run a command to completion, its output captured as text."""
    return subprocess.run([str(arg) for arg in args], cwd=cwd, env=env, check=False,
                          capture_output=True, text=True, timeout=timeout_s)


@pytest.fixture(scope="session")
def built(tmp_path_factory) -> dict[str, Path]:
    """Build every package with ``hatch run build-all``'s command, into a tmp folder.

    Returns each built file by its name.
    """
    out = tmp_path_factory.mktemp("dist")
    result = run([sys.executable, "-m", "devtools.build", "--out", out], timeout_s=300)
    assert result.returncode == 0, result.stdout + result.stderr
    printed = [Path(line) for line in result.stdout.splitlines()]
    assert sorted(printed) == sorted(out.iterdir()), "build-all printed other files"
    return {path.name: path for path in out.iterdir()}


def wheel_of(built: dict[str, Path], import_name: str) -> Path:
    (wheel,) = [path for name, path in built.items()
                if name.startswith(f"{import_name}-") and name.endswith(".whl")]
    return wheel


def venv_env(venv: Path, base: dict[str, str] | None = None) -> dict[str, str]:
    """Environment variables under which ``venv`` is the only Python to be found.

    The test environment's own ``bin`` is taken off PATH, so a command missing
    from ``venv`` is not found there instead. Byte code may be written, so only
    the first process that imports a module compiles it.
    """
    env = dict(os.environ if base is None else base)
    for name in ("PYTHONPATH", "PYTHONHOME", "PYTHONSAFEPATH",
                 "PYTHONDONTWRITEBYTECODE"):
        env.pop(name, None)
    kept = [entry for entry in env.get("PATH", "").split(os.pathsep)
            if entry and Path(entry).resolve() != BIN.resolve()]
    env["PATH"] = os.pathsep.join([str(venv / "bin"), *kept])
    env["VIRTUAL_ENV"] = str(venv)
    return env


def _create_venv(venv: Path) -> None:
    uv = os.environ.get("HATCH_UV") or shutil.which("uv")
    if uv:  # seconds faster than the standard library's venv with pip
        args = [uv, "venv", "--quiet", "--seed", "--python", sys.executable, venv]
    else:
        args = [sys.executable, "-m", "venv", venv]
    result = run(args, cwd=venv.parent)
    assert result.returncode == 0, result.stdout + result.stderr


@pytest.fixture(scope="session")
def context_venvs(built, tmp_path_factory) -> dict[str, Path]:
    """One fresh virtual environment per context, made by the images' install script.

    Each gets a folder holding only the kernel's wheel and its context's wheel,
    as the image's build stage does, and ``services/install-context.sh`` installs
    them; their dependencies come from the package index, by the wheels'
    metadata. The three installs run at once, and pip skips byte-compiling
    (``PIP_NO_COMPILE=0`` is pip's spelling of "do not compile"): that halves
    the time, and the files installed are the same, less their byte code.
    """
    root = tmp_path_factory.mktemp("venvs")
    installs: dict[str, tuple[subprocess.Popen, Path]] = {}
    for context in CONTEXTS:
        wheels = root / f"{context}-wheels"
        wheels.mkdir()
        for import_name in ("shared_kernel", f"context_{context}"):
            shutil.copy(wheel_of(built, import_name), wheels)
        venv = root / context
        _create_venv(venv)
        log = root / f"{context}-install.txt"
        with open(log, "wb") as output:
            process = subprocess.Popen(
                ["sh", str(INSTALL_SCRIPT), context, str(wheels)],
                cwd=root, env=dict(venv_env(venv), PIP_NO_COMPILE="0"),
                stdout=output, stderr=subprocess.STDOUT,
            )
        installs[context] = (process, log)

    for context, (process, log) in installs.items():
        code = process.wait(timeout=600)
        assert code == 0, f"installing {context} failed:\n{log.read_text()[-3000:]}"
    return {context: root / context for context in CONTEXTS}


@pytest.fixture
def repo_clone(tmp_path) -> Path:
    """A git clone of this repository holding its working tree as one clean commit.

    The clone starts at the last commit and is then given every file of the
    working tree (uncommitted changes included), so the release commands are
    tested as they are now, without touching this repository's git state.
    """
    clone = tmp_path / "repo"
    result = run(["git", "clone", "--quiet", "--no-hardlinks", ROOT, clone])
    assert result.returncode == 0, result.stderr
    _copy_working_tree(clone)
    env = dict(os.environ, **GIT_IDENTITY)
    for args in (["add", "--all"], ["commit", "--quiet", "--allow-empty",
                                    "-m", "The working tree under test"]):
        result = run(["git", *args], cwd=clone, env=env)
        assert result.returncode == 0, result.stdout + result.stderr
    return clone


def _copy_working_tree(clone: Path) -> None:
    listed = run(["git", "ls-files", "-z", "--cached", "--others",
                  "--exclude-standard"])
    assert listed.returncode == 0, listed.stderr
    for name in filter(None, listed.stdout.split("\0")):
        source, target = ROOT / name, clone / name
        if source.is_file():
            target.parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(source, target)
        elif target.exists():
            target.unlink()
