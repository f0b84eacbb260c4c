"""What one benchmark run stands on: Redis, an SMTP sink and its folders.

The Redis server is the one ``REDIS_URL`` names, or one started here (AOF on,
a password set, as in production). The SMTP sink is always local: it notes
when each mail arrives, which is where the pipeline's latency ends.
"""

import shutil
import threading
import time
from dataclasses import asdict, dataclass
from pathlib import Path

import redis

from devtools.bench.messages import busy_queues
from devtools.redis_server import RedisServer
from devtools.smtp_sink import EmlWriter, SmtpSink
from shared_kernel.settings import RedisSettings, Settings

# The names redis-py gives to the settings whose names differ.
REDIS_PY_NAMES = {
    "tls": "ssl",
    "tls_ca_file": "ssl_ca_certs",
    "tls_cert_file": "ssl_certfile",
    "tls_key_file": "ssl_keyfile",
}
FOLDERS = ("redis", "mail", "logs", "data", "reports", "console", "import")
WORKDIR_MARKER = ".bench-workdir"


class BenchError(RuntimeError):
    """Raised when the benchmark cannot run, or one of its phases failed."""


class TimedEmlWriter(EmlWriter):
    """Write each mail as an ``.eml`` file and note when it arrived."""

    def __init__(self, folder: Path) -> None:
        super().__init__(folder)
        self.arrivals: list[float] = []
        self._arrived = threading.Condition()

    async def handle_DATA(self, server, session, envelope) -> str:
        at = time.time()
        reply = await super().handle_DATA(server, session, envelope)
        with self._arrived:
            self.arrivals.append(at)
            self._arrived.notify_all()
        return reply

    def wait_for(self, count: int, timeout_s: float) -> float | None:
        """Return the arrival time of mail number ``count``, or None on timeout."""
        with self._arrived:
            if self._arrived.wait_for(lambda: len(self.arrivals) >= count, timeout_s):
                return self.arrivals[count - 1]
        return None


@dataclass
class Rig:
    """The servers, folders and environment of one run."""

    root: Path
    env: dict[str, str]
    settings: Settings
    mailbox: TimedEmlWriter
    smtp: SmtpSink
    redis_server: RedisServer | None = None

    def client(self) -> redis.Redis:
        """Return a plain client of the run's Redis server."""
        return plain_client(self.settings.redis)

    def console(self, name: str) -> Path:
        """Return the file that keeps the output of the process ``name``."""
        return self.root / "console" / f"{name}.txt"

    def stop(self) -> None:
        """Stop the servers this run started."""
        self.smtp.stop()
        if self.redis_server is not None:
            self.redis_server.stop()


def plain_client(settings: RedisSettings) -> redis.Redis:
    """Return a client with redis-py's defaults, as a plain Dramatiq user has.

    Only the settings' connection fields reach it; the kernel's client adds
    timeouts and retries on top of them.
    """
    options = {REDIS_PY_NAMES.get(k, k): v for k, v in asdict(settings).items()}
    return redis.Redis(**options)


def start_rig(root: Path, environ: dict[str, str]) -> Rig:
    """Prepare the folders, start the servers and check Redis is idle.

    Raises:
        BenchError: When consumers are running on the named Redis server.
    """
    root = root.resolve()
    _claim_workdir(root)
    for name in FOLDERS:
        shutil.rmtree(root / name, ignore_errors=True)
        (root / name).mkdir(parents=True)
    env, redis_server = _redis_env(root, environ)
    smtp = None
    try:
        mailbox = TimedEmlWriter(root / "mail")
        smtp = SmtpSink(root / "mail", handler=mailbox).start()
        env.update(
            SMTP_HOST="127.0.0.1",
            SMTP_PORT=str(smtp.port),
            SMTP_STARTTLS="false",
            LOG_DIR=str(root / "logs"),
            DATA_DIR=str(root / "data"),
            REPORT_DIR=str(root / "reports"),
        )
        env.setdefault("PLATFORM_ENV", "local")
        rig = Rig(root, env, Settings.from_env(env), mailbox, smtp, redis_server)
        _refuse_busy_redis(rig)
    except BaseException:
        # A bad setting, or a busy Redis: leave no server behind.
        if smtp is not None:
            smtp.stop()
        if redis_server is not None:
            redis_server.stop()
        raise
    return rig


def _claim_workdir(root: Path) -> None:
    """Mark ``root`` as the bench's, refusing a folder that holds other files.

    Each run clears its folders there, so a folder of the user's own (or the
    project's, whose ``data`` and ``logs`` the consumers use) must not be one.

    Raises:
        BenchError: When ``root`` holds files the bench did not make.
    """
    marker = root / WORKDIR_MARKER
    entries = {entry.name for entry in root.iterdir()}
    # A folder of an earlier bench, from before the mark, holds only its own.
    earlier = root.name == ".bench" and entries <= set(FOLDERS)
    if entries and not marker.exists() and not earlier:
        raise BenchError(
            f"--workdir {str(root)!r} holds files the bench did not make, and each "
            "run clears its folders there; choose a new or empty folder"
        )
    marker.write_text("Scratch folder of hatch run bench: each run clears it.\n")


def _redis_env(
    root: Path, environ: dict[str, str]
) -> tuple[dict[str, str], RedisServer | None]:
    # Settings the run chooses itself, and Dramatiq's prefetch, which a worker
    # would read at import and which the drain phase sets per run.
    dropped = ("SMTP_", "CONTEXT_NAME", "dramatiq_")
    env = {k: v for k, v in environ.items() if not k.startswith(dropped)}
    if env.get("REDIS_URL", "").strip():
        return env, None
    env = {k: v for k, v in env.items() if not k.startswith("REDIS_")}
    server = RedisServer(root / "redis").start()
    env["REDIS_URL"] = server.url
    return env, server


def _refuse_busy_redis(rig: Rig) -> None:
    client = rig.client()
    address = rig.settings.redis.address
    live = list(client.scan_iter("platform:consumers:*", count=100))
    if live:
        raise BenchError(
            f"Redis at {address} has {len(live)} live consumer(s); the benchmark "
            "would race them for messages and measure their work: stop them, or "
            "point REDIS_URL at an idle Redis server"
        )
    busy = busy_queues(client)
    if busy:
        held = ", ".join(f"{queue} ({count})" for queue, count in busy.items())
        raise BenchError(
            f"Redis at {address} holds messages in {held}; the benchmark's no-op "
            "consumers would take them: drain those queues first, or point "
            "REDIS_URL at an idle Redis server"
        )

