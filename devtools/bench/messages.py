"""The bench's messages: ``RecordLog`` commands on the ``log`` queue.

The bench reuses a queue of the platform instead of adding one to the kernel:
``log`` has a real contract and route, and no context consumer runs while the
bench uses it. A message carries the time it was sent in its text, so the
actor that receives it can tell how long it travelled.
"""

import uuid
from collections.abc import Iterable, Sequence

import dramatiq
import redis

from shared_kernel.contracts import RecordLog, routes_for
from shared_kernel.idempotency import DONE_PREFIX
from shared_kernel.queues import QueueNames
from shared_kernel.storing import wake_channel
from shared_kernel.tracing import trace_key

BENCH_QUEUE = str(routes_for(RecordLog)[0].queue)
BENCH_ACTOR = routes_for(RecordLog)[0].actor
NAMESPACE = "dramatiq"
CHUNK = 1000


def queue_key(queue: str = BENCH_QUEUE) -> str:
    """Return the key of the list of ids waiting on ``queue``."""
    return f"{NAMESPACE}:{queue}"


def messages_key(queue: str = BENCH_QUEUE) -> str:
    """Return the key of the hash of messages of ``queue`` not yet acknowledged."""
    return f"{NAMESPACE}:{queue}.msgs"


def payload(sent_at: float) -> dict:
    """Return the JSON argument of a bench message sent at ``sent_at``."""
    return {"text": f"{sent_at:.6f}", "level": "info", "origin": "bench"}


def command(sent_at: float) -> RecordLog:
    """Return the validated contract of a bench message sent at ``sent_at``."""
    return RecordLog(text=f"{sent_at:.6f}", origin="bench")


def prefill(client: redis.Redis, count: int) -> list[dramatiq.Message]:
    """Store ``count`` messages on the bench queue as Dramatiq's send would.

    The payloads go first, in pipelined chunks; then one ``RPUSH`` makes
    every id visible at once, so a running worker sees the whole batch, and
    a notice on the queue's wake channel starts an idle kernel consumer.
    """
    messages = [_message() for _ in range(count)]
    ids = [message.options["redis_message_id"] for message in messages]
    with client.pipeline(transaction=False) as pipe:
        for start in range(0, count, CHUNK):
            chunk = messages[start : start + CHUNK]
            pipe.hset(
                messages_key(),
                mapping={m.options["redis_message_id"]: m.encode() for m in chunk},
            )
        pipe.execute()
    client.rpush(queue_key(), *ids)
    # As the kernel's send does: an idle kernel consumer wakes at once.
    client.publish(wake_channel(BENCH_QUEUE), count)
    return messages


def forget(client: redis.Redis, messages: Sequence[dramatiq.Message]) -> None:
    """Delete what the kernel's middleware kept about ``messages``."""
    keys = []
    for message in messages:
        keys.append(f"{DONE_PREFIX}{message.actor_name}:{message.message_id}")
        correlation_id = message.options.get("correlation_id")
        if correlation_id:
            keys.append(trace_key(correlation_id))
    _delete(client, keys)


def clear_queue(client: redis.Redis) -> None:
    """Drop every message waiting on the bench queue."""
    client.delete(queue_key(), messages_key())


def busy_queues(client: redis.Redis) -> dict[str, int]:
    """Return the platform's queues that hold messages, with how many."""
    with client.pipeline(transaction=False) as pipe:
        for queue in QueueNames:
            pipe.hlen(messages_key(queue))
        counts = pipe.execute()
    return {str(q): n for q, n in zip(QueueNames, counts) if n}


def _message() -> dramatiq.Message:
    sent_at = 0.0  # drained messages are timed by their queue, not one by one
    return dramatiq.Message(
        queue_name=BENCH_QUEUE,
        actor_name=BENCH_ACTOR,
        args=(payload(sent_at),),
        kwargs={},
        options={
            "correlation_id": uuid.uuid4().hex,
            "redis_message_id": str(uuid.uuid4()),
        },
    )


def _delete(client: redis.Redis, keys: Iterable[str]) -> None:
    keys = list(keys)
    with client.pipeline(transaction=False) as pipe:
        for start in range(0, len(keys), CHUNK):
            pipe.delete(*keys[start : start + CHUNK])
        pipe.execute()
