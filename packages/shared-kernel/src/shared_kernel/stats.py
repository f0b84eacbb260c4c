"""Per-queue message counters kept in Redis, read by the demo and status tools.

Dramatiq keeps no history of what it processed. The :class:`QueueStats`
middleware counts, per queue, messages sent, processed, failed (one count per
failed attempt), retried and dead-lettered, in one hash per queue, plus
per-minute buckets of processed messages that expire after two hours.
"""

import time
from collections.abc import Iterable

import dramatiq
import redis
from dramatiq.common import q_name
from loguru import logger

STATS_PREFIX = "platform:stats:"
COUNTERS = ("sent", "processed", "failed", "retried", "dead")
MINUTE_BUCKET_TTL_S = 2 * 60 * 60


def stats_key(queue: str) -> str:
    """Return the key of the counters hash of ``queue``."""
    return f"{STATS_PREFIX}{queue}"


def minute_key(queue: str, minute: int) -> str:
    """Return the key of ``queue``'s bucket for one epoch minute."""
    return f"{STATS_PREFIX}{queue}:m:{minute}"


def read_counters(
    client: redis.Redis, queues: Iterable[str]
) -> dict[str, dict[str, int]]:
    """Return every counter of each queue, zero where nothing was counted."""
    queues = list(queues)
    with client.pipeline(transaction=False) as pipe:
        for queue in queues:
            pipe.hgetall(stats_key(queue))
        raw = pipe.execute()
    return {
        queue: {name: int(values.get(name.encode(), 0)) for name in COUNTERS}
        for queue, values in zip(queues, raw)
    }


class QueueStats(dramatiq.Middleware):
    """Count what happens to the messages of each queue.

    A counter that cannot be written (Redis briefly away) is skipped with a
    warning: statistics must never fail a message.
    """

    def after_enqueue(self, broker, message, delay) -> None:
        if getattr(broker, "counts_sends", False):
            return  # counted by the broker's store script, in the same call
        again = message.options.get("retries") or message.options.get("deferrals")
        counter = "retried" if again else "sent"
        self._count(broker, message, counter)

    def after_process_message(self, broker, message, *, result=None, exception=None):
        counter = "processed" if exception is None else "failed"
        settlements = getattr(broker, "settlements", None)
        if settlements is None:
            self._count(broker, message, counter)
            return
        # Stored with the message's acknowledgement, in one call for many.
        queue = q_name(message.queue_name)
        bucket = minute_key(queue, int(time.time() // 60))
        settlements.stage("C", stats_key(queue), counter, 1)
        settlements.stage("C", bucket, counter, 1)
        settlements.stage("E", bucket, MINUTE_BUCKET_TTL_S)

    def after_nack(self, broker, message) -> None:
        self._count(broker, message, "dead")

    def _count(self, broker, message, counter: str) -> None:
        client = getattr(broker, "client", None)
        if client is None:
            return
        queue = q_name(message.queue_name)
        try:
            with client.pipeline(transaction=False) as pipe:
                pipe.hincrby(stats_key(queue), counter, 1)
                if counter in ("processed", "failed"):
                    bucket = minute_key(queue, int(time.time() // 60))
                    pipe.hincrby(bucket, counter, 1)
                    pipe.expire(bucket, MINUTE_BUCKET_TTL_S)
                pipe.execute()
        except redis.RedisError as error:
            # During an outage the broker's outage log speaks, once.
            outage = getattr(broker, "outage", None)
            if outage is not None and isinstance(
                error, (redis.ConnectionError, redis.TimeoutError)
            ):
                outage.failed(error)
            else:
                logger.warning("Could not count {} on {}: {}", counter, queue, error)
