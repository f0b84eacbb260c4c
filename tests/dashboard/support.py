"""What the dashboard tests share: a dashboard process, and messages to show."""

import json
import subprocess
import sys
import time
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import dramatiq
import httpx

from devtools.redis_server import free_port
from shared_kernel.deadletters import record_reason
from tests.helpers import wait_for

TOKEN = "dashboard-token-for-tests-0123456789"
BIN = Path(sys.executable).parent


@contextmanager
def running_dashboard(env: dict, console: Path, *args: str) -> Iterator[str]:
    """Run ``platform-dashboard`` on a free port until the block ends; yield its URL."""
    port = free_port()
    base = f"http://127.0.0.1:{port}"
    with open(console, "wb") as output:
        server = subprocess.Popen(
            [str(BIN / "platform-dashboard"), "--port", str(port), *args],
            env=env, stdout=output, stderr=subprocess.STDOUT)
        try:
            assert wait_for(lambda: _answers(base), timeout_s=20), (
                f"the dashboard did not start; see {console}")
            yield base
        finally:
            server.terminate()
            server.wait(15)


def _answers(base: str) -> bool:
    try:
        httpx.get(f"{base}/static/dashboard.css", timeout=2)
    except httpx.TransportError:
        return False
    return True


def enqueue(broker: dramatiq.Broker, queue: str, *args, **kwargs) -> dramatiq.Message:
    """Enqueue one message for ``send_welcome_email`` on ``queue``, as a producer."""
    message = dramatiq.Message(queue_name=queue, actor_name="send_welcome_email",
                               args=args, kwargs=kwargs, options={})
    return broker.enqueue(message)


def bury(client, queue: str, payload: dict | bytes, *, dead_at_ms: int | None = None,
         reason: str = "PermanentError: mailbox does not exist") -> str:
    """Put one dead letter into ``queue``'s dead-letter set, as Dramatiq does."""
    redis_id = str(uuid.uuid4())
    raw = payload if isinstance(payload, bytes) else json.dumps(payload)
    score = dead_at_ms if dead_at_ms is not None else int(time.time() * 1000)
    client.zadd(f"dramatiq:{queue}.XQ", {redis_id: score})
    client.hset(f"dramatiq:{queue}.XQ.msgs", redis_id, raw)
    record_reason(client, queue, redis_id, reason=reason, actor="send_welcome_email",
                  message_id="")
    return redis_id


def welcome(n: int, **extra) -> dict:
    """A Dramatiq message of ``send_welcome_email`` as stored in Redis."""
    return {
        "queue_name": "email.welcome", "actor_name": "send_welcome_email",
        "args": [dict({"to": f"user{n}@example.com", "name": f"User {n}"}, **extra)],
        "kwargs": {}, "options": {"retries": 3},
        "message_id": str(uuid.uuid4()), "message_timestamp": int(time.time() * 1000),
    }
