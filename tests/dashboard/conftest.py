"""Fixtures for the dashboard: a real server over real HTTP, on real Redis."""

import threading
from collections.abc import Callable, Iterator

import dramatiq
import httpx
import pytest
import uvicorn
from loguru import logger

from devtools.redis_server import free_port
from shared_kernel.broker import build_broker, redis_client
from shared_kernel.dashboard import create_app
from shared_kernel.settings import Settings
from tests.helpers import wait_for


@pytest.fixture
def settings(redis_server, redis_client) -> Settings:
    """The platform's settings, pointing at the test's (emptied) Redis."""
    return Settings.from_env({"REDIS_URL": redis_server.url})


@pytest.fixture
def serve(settings) -> Iterator[Callable[..., str]]:
    """Serve a dashboard with uvicorn in this process; return its base URL."""
    started: list[tuple[uvicorn.Server, threading.Thread]] = []

    def start(*, token: str | None = None, client=None) -> str:
        app = create_app(client or redis_client(settings.redis), settings, token=token)
        port = free_port()
        server = uvicorn.Server(uvicorn.Config(
            app, host="127.0.0.1", port=port, log_config=None, access_log=False))
        thread = threading.Thread(target=server.run, daemon=True)
        thread.start()
        assert wait_for(lambda: server.started, timeout_s=10), "uvicorn did not start"
        started.append((server, thread))
        return f"http://127.0.0.1:{port}"

    yield start
    for server, thread in started:
        server.should_exit = True
        thread.join(10)


@pytest.fixture
def http() -> Iterator[httpx.Client]:
    """An HTTP client that does not follow redirects, so tests see them."""
    with httpx.Client(timeout=10, follow_redirects=False) as client:
        yield client


@pytest.fixture
def log_lines() -> Iterator[list[str]]:
    """Every loguru line written during the test, as ``context | message``."""
    lines: list[str] = []
    sink = logger.add(lambda m: lines.append(m.rstrip("\n")), level="DEBUG",
                      format="{extra[context]} | {level} | {message}")
    yield lines
    logger.remove(sink)


@pytest.fixture
def broker(settings) -> Iterator[dramatiq.Broker]:
    """The platform's broker, used here to enqueue messages as producers do."""
    broker = build_broker(settings)
    yield broker
    broker.close()
