"""Each context installed from its wheel alone, with the kernel's, works on its own.

Each fresh virtual environment holds the kernel's and one context's wheel, as
the context's image does (``context_venvs``). In it, the other contexts cannot
be imported, and the context's consumer, started from it against a real Redis,
processes a message. The kernel installed is the one the kernel-range test
requires to be the lowest each context allows.
"""

import subprocess
from collections.abc import Callable, Iterator
from datetime import UTC, datetime
from pathlib import Path
from subprocess import Popen

import dramatiq
import pytest
from shared_kernel import Settings, install_broker, send
from shared_kernel.contracts import (
    ColumnProfile,
    DatasetImported,
    DatasetProfile,
    HistogramBin,
)

from tests.helpers import wait_for
from tests.packaging.conftest import CONTEXTS, run, venv_env

REPOSITORY_DISTRIBUTIONS = {"shared-kernel", *(f"context-{c}" for c in CONTEXTS)}
LIST_DISTRIBUTIONS = (
    "import importlib.metadata as m; "
    "print('\\n'.join(d.metadata['Name'] for d in m.distributions()))"
)


@pytest.mark.parametrize("context", CONTEXTS)
def test_a_context_environment_holds_the_kernel_and_that_context_only(
    context_venvs, context
):
    venv = context_venvs[context]
    python = venv / "bin" / "python"
    own = f"context_{context}"

    code = f"import shared_kernel, {own}; print({own}.__file__)"
    imported = run([python, "-c", code], env=venv_env(venv))
    listed = run([python, "-c", LIST_DISTRIBUTIONS], env=venv_env(venv))

    assert imported.returncode == 0, imported.stderr
    assert imported.stdout.startswith(str(venv)), "imported from outside the venv"
    assert set(listed.stdout.split()) & REPOSITORY_DISTRIBUTIONS == {
        "shared-kernel", f"context-{context}"
    }
    for other in CONTEXTS:
        if other == context:
            continue
        failed = run([python, "-c", f"import context_{other}"], env=venv_env(venv))
        assert failed.returncode != 0
        assert f"No module named 'context_{other}'" in failed.stderr


@pytest.fixture
def start_from_venv(platform_env, tmp_path) -> Iterator[Callable[..., Popen]]:
    """Start a command of a context's virtual environment; stop it after the test."""
    started: list[Popen] = []

    def start(venv: Path, command: str, *args: str) -> Popen:
        with open(tmp_path / f"{command}.console.txt", "wb") as output:
            process = Popen(
                [str(venv / "bin" / command), *args], env=venv_env(venv, platform_env),
                stdout=output, stderr=subprocess.STDOUT,
            )
        started.append(process)
        return process

    yield start
    for process in started:
        process.terminate()
    for process in started:
        try:
            process.wait(30)
        except subprocess.TimeoutExpired:
            process.kill()


def console(tmp_path: Path, command: str) -> str:
    return (tmp_path / f"{command}.console.txt").read_text()[-3000:]


def test_the_email_consumer_from_its_wheel_sends_a_welcome_email(
    context_venvs, start_from_venv, platform_env, smtp_sink, tmp_path
):
    venv = context_venvs["email"]
    start_from_venv(venv, "email-consume")

    sent = run([venv / "bin" / "platform-produce", "welcome", "ada@example.com",
                "--name", "Ada"], env=venv_env(venv, platform_env))

    assert sent.returncode == 0, sent.stderr
    assert wait_for(lambda: len(smtp_sink.messages()) == 1, timeout_s=60), (
        console(tmp_path, "email-consume")
    )
    mail = smtp_sink.messages()[0].read_text()
    assert "To: ada@example.com" in mail and "Ada" in mail


def test_the_data_consumer_from_its_wheel_imports_the_sample_it_ships(
    context_venvs, start_from_venv, platform_env, redis_client, tmp_path
):
    venv = context_venvs["data"]
    start_from_venv(venv, "data-consume")

    sent = run([venv / "bin" / "platform-produce", "import", "sample:orders"],
               env=venv_env(venv, platform_env))

    assert sent.returncode == 0, sent.stderr
    assert wait_for(lambda: redis_client.llen("dramatiq:report.build") == 1,
                    timeout_s=60), console(tmp_path, "data-consume")
    (message,) = redis_client.hvals("dramatiq:report.build.msgs")
    assert b'"actor_name":"build_report"' in message.replace(b" ", b"")
    assert b'"name":"orders"' in message.replace(b" ", b"")


@pytest.fixture
def kernel_producer(platform_env):
    """A broker in this test process, set up as a producer's."""
    broker = install_broker(Settings.from_env(platform_env))
    yield broker
    broker.close()
    dramatiq.set_broker(None)


def test_the_report_consumer_from_its_wheel_publishes_a_report(
    context_venvs, start_from_venv, kernel_producer, redis_client, tmp_path
):
    venv = context_venvs["report"]
    start_from_venv(venv, "report-consume")

    send(dataset_imported())

    assert wait_for(lambda: redis_client.llen("dramatiq:email.report") == 1,
                    timeout_s=60), console(tmp_path, "report-consume")
    (message,) = redis_client.hvals("dramatiq:email.report.msgs")
    assert b'"actor_name":"send_report_email"' in message.replace(b" ", b"")
    assert b"report.html" in message


def dataset_imported() -> DatasetImported:
    price = ColumnProfile(
        name="price", type="float", nulls=0, distinct=3, min=1.0, max=3.0, mean=2.0,
        histogram=(HistogramBin(low=1.0, high=2.0, count=1),
                   HistogramBin(low=2.0, high=3.0, count=2)),
    )
    return DatasetImported(
        dataset_id="ds-wheel-test", name="prices", source="https://example.com/p.csv",
        imported_at=datetime(2026, 1, 2, 3, 4, tzinfo=UTC),
        profile=DatasetProfile(rows=3, rejected_rows=0, columns=(price,)),
        report_to=("analyst@example.com",),
    )

