"""The path of one correlation id through the contexts.

Every message a producer sends carries a correlation id, and every message a
task sends inherits it (see ``messaging.send``). The :class:`Trace` middleware
appends one entry per handled message to ``platform:trace:<correlation id>``,
kept for a day, so ``platform-status --trace ID`` can show the whole path.
"""

import json
import threading
import time

import dramatiq
import redis
from dramatiq.common import q_name
from loguru import logger

TRACE_PREFIX = "platform:trace:"
TRACE_TTL_S = 24 * 60 * 60
MAX_ENTRIES = 500


def trace_key(correlation_id: str) -> str:
    """Return the key of the path of ``correlation_id``."""
    return f"{TRACE_PREFIX}{correlation_id}"


def read_trace(client: redis.Redis, correlation_id: str) -> list[dict]:
    """Return the hops of ``correlation_id``, oldest first."""
    return [json.loads(raw) for raw in client.lrange(trace_key(correlation_id), 0, -1)]


class Trace(dramatiq.Middleware):
    """Record each handled message under its correlation id."""

    def __init__(self, *, context: str) -> None:
        self.context = context
        # A message is handled in one worker thread, from start to end.
        self._local = threading.local()

    def before_process_message(self, broker, message) -> None:
        self._local.started = (message.message_id, time.monotonic())

    def after_process_message(self, broker, message, *, result=None, exception=None):
        mark = getattr(self._local, "started", None)
        self._local.started = None
        ours = mark is not None and mark[0] == message.message_id
        started = mark[1] if ours else None
        correlation_id = message.options.get("correlation_id")
        client = getattr(broker, "client", None)
        if not correlation_id or client is None:
            return
        hop = {
            "at": round(time.time(), 3),
            "context": self.context,
            "queue": q_name(message.queue_name),
            "actor": message.actor_name,
            "message_id": message.message_id,
            "outcome": "done"
            if exception is None
            else f"failed: {type(exception).__name__}",
            "took_ms": None
            if started is None
            else round((time.monotonic() - started) * 1000, 1),
        }
        key = trace_key(correlation_id)
        settlements = getattr(broker, "settlements", None)
        if settlements is not None:
            # Stored with the message's acknowledgement, in one call for many.
            settlements.stage("T", key, hop, TRACE_TTL_S, MAX_ENTRIES)
            return
        try:
            with client.pipeline(transaction=False) as pipe:
                pipe.rpush(key, json.dumps(hop))
                pipe.ltrim(key, -MAX_ENTRIES, -1)
                pipe.expire(key, TRACE_TTL_S)
                pipe.execute()
        except redis.RedisError as error:
            logger.debug(
                "Could not record the trace of {}: {}", message.message_id, error
            )

    after_skip_message = after_process_message
