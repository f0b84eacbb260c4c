"""The architecture contracts of the root pyproject.toml, checked by import-linter.

One test runs ``lint-imports`` on the code as it is; the other plants one
forbidden import per contract in a copy of the code and shows that each
contract then reports it, so a passing check means something.
"""

import os
import shutil
from pathlib import Path

from tests.packaging.conftest import BIN, ROOT, run

CONTRACTS = (
    "Bounded contexts never import each other",
    "The shared kernel imports no context",
    "Domain services import neither Dramatiq nor Redis",
)


def lint_imports(cwd: Path, env: dict | None = None):
    return run([BIN / "lint-imports", "--no-cache"], cwd=cwd, env=env)


def test_the_architecture_contracts_hold():
    result = lint_imports(ROOT)

    assert result.returncode == 0, result.stdout + result.stderr
    for name in CONTRACTS:
        assert f"{name} KEPT" in result.stdout


def test_each_contract_reports_an_import_planted_against_it(tmp_path):
    source = tmp_path / "src"
    for folder in (ROOT / "packages").glob("*/src/*"):
        shutil.copytree(folder, source / folder.name,
                        ignore=shutil.ignore_patterns("__pycache__"))
    shutil.copy(ROOT / "pyproject.toml", tmp_path)
    plant(source / "context_email" / "leak.py", "from context_data import api\n")
    plant(source / "shared_kernel" / "leak.py", "import context_report\n")
    plant(source / "context_data" / "services.py", "from context_data import jobs\n")

    env = dict(os.environ, PYTHONPATH=str(source))
    result = lint_imports(tmp_path, env)

    assert result.returncode == 1, result.stdout + result.stderr
    for name in CONTRACTS:
        assert f"{name} BROKEN" in result.stdout
    assert "context_email.leak -> context_data.api" in result.stdout
    assert "shared_kernel.leak -> context_report" in result.stdout
    assert "context_data.services -> context_data.jobs" in result.stdout


def plant(path: Path, line: str) -> None:
    """Append an import to a module of the copy, creating the module if need be."""
    with open(path, "a") as module:
        module.write(line)
