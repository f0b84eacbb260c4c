"""Dead letters: why each message failed, recorded when it is dead-lettered.

Dramatiq moves a failed message's payload to ``<ns>:<queue>.XQ.msgs`` and its
id, scored by time, to ``<ns>:<queue>.XQ``, but keeps no reason. The
:class:`DeadLetterReasons` middleware records one in the hash
``platform:dead:reasons:<queue>`` (field: the Redis message id, value: JSON
with ``reason``, ``actor``, ``message_id`` and ``failed_at_ms``) and logs one
ERROR line naming the message and the fault.
"""

import json
import time

import dramatiq
import redis
from dramatiq.common import q_name
from loguru import logger

from shared_kernel.redaction import redact

REASONS_PREFIX = "platform:dead:reasons:"


def reasons_key(queue: str) -> str:
    """Return the key of the hash of dead-letter reasons of ``queue``."""
    return f"{REASONS_PREFIX}{q_name(queue)}"


def record_reason(
    client: redis.Redis,
    queue: str,
    redis_id: str,
    *,
    reason: str,
    actor: str,
    message_id: str,
) -> None:
    """Store why the message ``redis_id`` of ``queue`` was dead-lettered."""
    entry = {
        "reason": redact(reason),
        "actor": actor,
        "message_id": message_id,
        "failed_at_ms": int(time.time() * 1000),
    }
    client.hset(reasons_key(queue), redis_id, json.dumps(entry))


def describe_failure(message) -> str:
    """Return the reason a failed message gives: its exception on one line."""
    exception = getattr(message, "_exception", None)
    if exception is None:
        return "failed without an exception (retries exhausted or aborted)"
    text = str(exception).strip().splitlines()
    return f"{type(exception).__name__}: {text[0] if text else ''}".strip()


class DeadLetterReasons(dramatiq.Middleware):
    """Record and log the reason of every dead-lettered message."""

    def after_nack(self, broker, message) -> None:
        reason = describe_failure(message)
        logger.bind(
            actor=message.actor_name,
            message_id=message.message_id,
            correlation_id=message.options.get("correlation_id", "-"),
        ).error(
            "Message {} ({}) dead-lettered: {}",
            message.message_id,
            message.actor_name,
            reason,
        )
        client = getattr(broker, "client", None)
        if client is None:
            return
        try:
            record_reason(
                client,
                message.queue_name,
                message.options["redis_message_id"],
                reason=reason,
                actor=message.actor_name,
                message_id=message.message_id,
            )
        except redis.RedisError as error:
            logger.warning(
                "Could not record why {} failed: {}", message.message_id, error
            )
