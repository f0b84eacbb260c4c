"""Fixtures that start real servers: a Redis server and an SMTP sink."""

import os
import subprocess
import sys
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
import redis

from devtools.redis_server import RedisServer
from devtools.smtp_sink import SmtpSink

BIN = Path(sys.executable).parent


@pytest.fixture(scope="session")
def redis_server(tmp_path_factory) -> Iterator[RedisServer]:
    """One real Redis server (AOF on, password set) for the whole session."""
    with RedisServer(tmp_path_factory.mktemp("redis")) as server:
        yield server


@pytest.fixture
def redis_client(redis_server) -> redis.Redis:
    """A client of the session's server, on a database emptied for this test."""
    client = redis_server.client()
    client.flushall()
    return client


@pytest.fixture
def smtp_sink(tmp_path) -> Iterator[SmtpSink]:
    """A real SMTP server writing each received mail as an .eml file."""
    with SmtpSink(tmp_path / "mail") as sink:
        yield sink


@pytest.fixture
def platform_env(redis_server, redis_client, smtp_sink, tmp_path) -> dict[str, str]:
    """Environment variables for processes of the platform under test."""
    env = {k: v for k, v in os.environ.items() if not k.startswith(("REDIS_", "SMTP_"))}
    env.update(
        REDIS_URL=redis_server.url,
        SMTP_HOST="127.0.0.1",
        SMTP_PORT=str(smtp_sink.port),
        LOG_DIR=str(tmp_path / "logs"),
        DATA_DIR=str(tmp_path / "data"),
        REPORT_DIR=str(tmp_path / "reports"),
    )
    env.pop("CONTEXT_NAME", None)
    return env


@pytest.fixture
def start_consumer(platform_env, tmp_path) -> Iterator[Callable[..., subprocess.Popen]]:
    """Start a context's consumer through its console script; stop it after."""
    started: list[subprocess.Popen] = []

    def start(context: str, *args: str, env: dict | None = None) -> subprocess.Popen:
        output = open(tmp_path / f"{context}-{len(started)}.console.txt", "wb")
        process = subprocess.Popen(
            [str(BIN / f"{context}-consume"), *args],
            env=env or platform_env, stdout=output, stderr=subprocess.STDOUT,
        )
        started.append(process)
        return process

    yield start
    for process in started:
        if process.poll() is None:
            process.terminate()
    for process in started:
        try:
            process.wait(30)
        except subprocess.TimeoutExpired:
            process.kill()
