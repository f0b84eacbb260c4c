"""Waking an idle consumer the moment a message is sent to its queue.

A plain Dramatiq consumer that finds its queue empty sleeps with a growing
backoff, up to a second, so a message sent to an idle consumer waits up to
that long, and the consumer polls Redis all the while. The kernel's store
script publishes on the queue's wake channel instead (see
:mod:`shared_kernel.storing`), and an idle consumer waits on a subscription
to it: a send wakes it at once, and waiting costs Redis nothing. A message
sent by other means (a plain Dramatiq producer, a requeue) is found by the
next poll, ``idle_poll_s`` later at most.
"""

import threading
import time

import redis

from shared_kernel.storing import wake_channel

REDIS_ERRORS = (redis.ConnectionError, redis.TimeoutError)
SLICE_S = 0.25


class WakeListener:
    """Waits for sends to one queue, on a connection of its own.

    Args:
        client: The Redis client; the subscription takes one connection.
        queue_name: The queue (or delay queue) to wait for.
    """

    def __init__(self, client: redis.Redis, queue_name: str) -> None:
        self._client = client
        self._channel = wake_channel(queue_name)
        self._pubsub: redis.client.PubSub | None = None
        self._interrupted = threading.Event()

    @property
    def interrupted(self) -> bool:
        """Whether the consumer is stopping: it must not fetch any more."""
        return self._interrupted.is_set()

    def listen(self) -> None:
        """Subscribe now, so that no send is missed before the first wait."""
        try:
            self._subscription()
        except REDIS_ERRORS:
            self.close()

    def wait(self, timeout_s: float) -> bool:
        """Wait up to ``timeout_s`` for a send; return whether one came.

        Sends that came while nobody waited count too: their notices wait in
        the subscription.
        """
        deadline = time.monotonic() + timeout_s
        try:
            pubsub = self._subscription()
            while not self._interrupted.is_set():
                left_s = deadline - time.monotonic()
                if left_s <= 0:
                    return False
                if self._notice(pubsub, min(left_s, SLICE_S)):
                    self._drain(pubsub)
                    return True
        except REDIS_ERRORS:
            # The next fetch reports the outage; until then, poll as Dramatiq.
            self.close()
            time.sleep(max(0.0, min(deadline - time.monotonic(), 1.0)))
        return False

    def interrupt(self) -> None:
        """End the current wait and every later one (the consumer stops)."""
        self._interrupted.set()

    def close(self) -> None:
        """Drop the subscription and its connection."""
        pubsub, self._pubsub = self._pubsub, None
        if pubsub is not None:
            try:
                pubsub.close()
            except REDIS_ERRORS:
                pass

    def _subscription(self) -> "redis.client.PubSub":
        if self._pubsub is None:
            pubsub = self._client.pubsub(ignore_subscribe_messages=True)
            pubsub.subscribe(self._channel)
            self._pubsub = pubsub
        return self._pubsub

    @staticmethod
    def _notice(pubsub: "redis.client.PubSub", timeout_s: float) -> bool:
        message = pubsub.get_message(timeout=timeout_s)
        return message is not None and message.get("type") == "message"

    @staticmethod
    def _drain(pubsub: "redis.client.PubSub") -> None:
        # One fetch serves every notice that came before it.
        for _ in range(10_000):
            if pubsub.get_message(timeout=0) is None:
                return
