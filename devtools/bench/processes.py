"""Consumer processes the benchmark starts, waits for and stops."""

import select
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from devtools.bench.rig import BenchError, Rig

REPO_ROOT = Path(__file__).resolve().parents[2]
READY_LINE = b"ready\n"
START_TIMEOUT_S = 60.0
STOP_TIMEOUT_S = 30.0


@contextmanager
def bench_worker(rig: Rig, name: str, args: list[str]) -> Iterator[subprocess.Popen]:
    """Run ``python -m devtools.bench.worker ARGS`` while the block runs.

    The block starts once the worker said it is consuming.
    """
    command = [sys.executable, "-m", "devtools.bench.worker", *args]
    with _running(rig, name, command, stdout=subprocess.PIPE) as process:
        _wait_for_ready_line(process, rig.console(name))
        yield process


@contextmanager
def context_consumer(
    rig: Rig, context: str, *, threads: int
) -> Iterator[subprocess.Popen]:
    """Run a context's consumer through its entry point while the block runs.

    The block starts once the consumer registered itself in Redis.
    """
    command = [*_entry_point(context), "--threads", str(threads)]
    with _running(rig, context, command) as process:
        _wait_for_registration(rig, process, context)
        yield process


@contextmanager
def _running(rig: Rig, name: str, command: list[str], **options):
    with open(rig.console(name), "ab") as console:
        process = subprocess.Popen(
            command,
            cwd=REPO_ROOT,
            env=rig.env,
            stderr=console,
            stdout=options.pop("stdout", console),
            start_new_session=True,
        )
    try:
        yield process
    finally:
        stop(process)


def stop(process: subprocess.Popen) -> None:
    """Ask ``process`` to finish (SIGTERM); kill it if it takes too long."""
    if process.poll() is None:
        process.send_signal(signal.SIGTERM)
    try:
        process.wait(STOP_TIMEOUT_S)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait()
    if process.stdout is not None:
        process.stdout.close()


def check_alive(process: subprocess.Popen, console: Path) -> None:
    """Raise when ``process`` has exited, with the end of its output.

    Raises:
        BenchError: When the process is no longer running.
    """
    code = process.poll()
    if code is not None:
        tail = console.read_text(errors="replace")[-2000:] if console.exists() else ""
        raise BenchError(
            f"the {console.stem} process exited with {code}; its output is in "
            f"{console}:\n{tail}"
        )


def _wait_for_ready_line(process: subprocess.Popen, console: Path) -> None:
    deadline = time.monotonic() + START_TIMEOUT_S
    while time.monotonic() < deadline:
        readable, _, _ = select.select([process.stdout], [], [], 0.1)
        if readable and process.stdout.readline() == READY_LINE:
            return
        check_alive(process, console)
    raise BenchError(f"the bench worker did not start within {START_TIMEOUT_S} s")


def _wait_for_registration(rig: Rig, process: subprocess.Popen, context: str) -> None:
    client = rig.client()
    deadline = time.monotonic() + START_TIMEOUT_S
    while time.monotonic() < deadline:
        for key in client.scan_iter("platform:consumers:*", count=100):
            if client.hget(key, "pid") == str(process.pid).encode():
                return
        check_alive(process, rig.console(context))
        time.sleep(0.1)
    raise BenchError(f"the {context} consumer did not start within {START_TIMEOUT_S} s")


def _entry_point(context: str) -> list[str]:
    script = Path(sys.executable).parent / f"{context}-consume"
    if script.exists():
        return [str(script)]
    return [sys.executable, "-m", f"context_{context}.consumer"]
