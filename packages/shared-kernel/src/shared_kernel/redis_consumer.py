"""The kernel's consumer of one queue: fetches in batches, waits without polling.

A plain Dramatiq consumer sleeps with a growing backoff, up to a second, both
when its queue is empty and when its prefetch window is full, and fetches
little at a time: the consumer loop, not Redis, limits its throughput, and a
message sent to an idle consumer waits up to that second. This one:

- fetches ids with their payloads, and dead-letters a payload that is not a
  Dramatiq message instead of failing the fetch of the good ones with it;
- sizes each fetch to what its threads finish in ``prefetch_hold_s``, hands
  messages to the worker threads as they free up, and returns to the queue
  those its threads did not start within ``prefetch_hold_s``, so another
  consumer can take them;
- when the queue is empty, waits on the queue's wake channel (see
  :mod:`shared_kernel.wake`), and when its window is full, waits for an
  acknowledgement: neither costs a Redis command;
- acknowledges through the broker's group commit (see
  :mod:`shared_kernel.settlement`), one round trip for many messages.
"""

import threading
import time

import dramatiq
import redis
from dramatiq.broker import MessageProxy
from dramatiq.brokers.redis import _RedisConsumer
from dramatiq.common import current_millis
from dramatiq.errors import ConnectionClosed, DecodeError
from loguru import logger

REDIS_ERRORS = (redis.ConnectionError, redis.TimeoutError)
MAX_PREFETCH = 1000
HANDOFF_WAIT_S = 0.01
WINDOW_WAIT_S = 0.01
STOPPING_PAUSE_S = 0.05
RATE_WINDOW_S = 0.5


class PlatformConsumer(_RedisConsumer):
    """Consumes one queue of the kernel's ``PlatformRedisBroker``."""

    def __init__(self, broker, queue_name, prefetch, timeout):
        super().__init__(broker, queue_name, min(prefetch, MAX_PREFETCH), timeout)
        self._needs_sweep = True
        self._delayed = queue_name.endswith(".DQ")
        self._window = threading.Event()
        self._rate = _Rate()
        self._wake = broker.listener(queue_name)
        self._wake.listen()
        prefetch_hooks = [] if self._delayed else broker.prefetch_hooks()
        self._claim_hooks = [hooks[0] for hooks in prefetch_hooks]
        self._release_hooks = [hooks[1] for hooks in prefetch_hooks]

    # An id stays held until Redis confirmed its ack, nack or requeue, so a
    # consumer restarted meanwhile does not requeue it as an orphan.
    def ack(self, message) -> None:
        self.queued_message_ids.discard(message.message_id)
        self._rate.tick()
        self._window.set()
        redis_id = message.options["redis_message_id"]
        self.broker.settlements.commit(ack=(self.queue_name, redis_id))

    def nack(self, message) -> None:
        self.broker.settlements.commit()
        self._guard(super().nack, message)
        self._window.set()
        self.broker.settle(self.queue_name, [message.options["redis_message_id"]])

    def requeue(self, messages) -> None:
        messages = list(messages)
        if not messages:
            return
        ids = [message.options["redis_message_id"] for message in messages]
        try:
            for release in self._release_hooks:
                release(self.broker, messages)
            self._guard(super().requeue, messages)
        finally:
            # Given up either way: if Redis did not take them back, the
            # upkeep's sweep finds them unheld in our set and requeues them.
            self.broker.settle(self.queue_name, ids)
        self.broker.wake_others(self.queue_name, len(ids))

    def close(self) -> None:
        try:
            self._return_cache()
        except ConnectionClosed:
            pass  # the broker's release, or heartbeat recovery, returns them
        finally:
            self._wake.close()

    def __next__(self):
        try:
            if self._needs_sweep:
                self.broker.requeue_orphans(self.queue_name)
                self._needs_sweep = False
            return self._next_message()
        except REDIS_ERRORS as error:
            self.broker.outage.failed(error)
            raise ConnectionClosed(error) from None

    def _next_message(self) -> MessageProxy | None:
        if self.message_cache:
            return self._hand_off()
        if self._wake.interrupted:
            time.sleep(STOPPING_PAUSE_S)  # stopping: nothing would run it
            return None
        room = self.prefetch - self.outstanding_message_count
        if room <= 0:
            self._window.wait(WINDOW_WAIT_S)
            self._window.clear()
            return None
        if not self._delayed and self.broker.workers_busy():
            # Fetching now would only hold messages an idle consumer could run.
            self.broker.wait_for_a_free_thread(HANDOFF_WAIT_S)
            return None
        fetched_any = self._fetch(min(room, self._batch_size()))
        if self.message_cache:
            self.misses = 0
            return self._hand_off()
        if not fetched_any:
            self._wake.wait(self._idle_wait_s())
        return None

    def _hand_off(self) -> MessageProxy | None:
        if not self._delayed and self.broker.workers_busy():
            fetched_at = self.message_cache[0][0]
            if time.monotonic() - fetched_at > self.broker.prefetch_hold_s:
                self._return_cache()
            else:
                self.broker.wait_for_a_free_thread(HANDOFF_WAIT_S)
            return None
        _, message = self.message_cache.pop(0)
        self.queued_message_ids.add(message.message_id)
        return MessageProxy(message)

    def _return_cache(self) -> None:
        messages = [message for _, message in self.message_cache]
        self.message_cache = []
        if messages:
            self.requeue(messages)
            logger.debug(
                "Returned {} prefetched message(s) of {} that no thread started "
                "within {} s",
                len(messages),
                self.queue_name,
                self.broker.prefetch_hold_s,
            )

    def _batch_size(self) -> int:
        # What the threads finish in half the hold time, at their recent pace.
        threads = self.broker.worker_threads or 8
        return max(2 * threads, int(self._rate.per_s * self.broker.prefetch_hold_s / 2))

    def _idle_wait_s(self) -> float:
        poll_s = self.broker.idle_poll_s
        if not self._delayed:
            return poll_s
        # A delay queue's consumer must come back when its next message is due.
        eta_ms = self.broker.next_eta_ms(self.queue_name)
        if eta_ms is None:
            return poll_s
        return min(poll_s, max(0.0, (eta_ms - current_millis()) / 1000))

    def _fetch(self, count: int) -> bool:
        """Fill the cache with up to ``count`` messages; return if any id came."""
        broker = self.broker
        flat = broker.fetch_script(
            keys=[broker.namespace], args=[self.queue_name, broker.broker_id, count]
        )
        broker.outage.succeeded()
        pairs = [(flat[i].decode(), flat[i + 1]) for i in range(0, len(flat), 2)]
        redis_ids = [redis_id for redis_id, _ in pairs]
        broker.hold(self.queue_name, *redis_ids)
        try:
            messages = [
                message
                for redis_id, data in pairs
                if (message := self._decode(redis_id, data)) is not None
            ]
            for claim in self._claim_hooks if messages else ():
                claim(broker, messages)
        except BaseException:
            # Not in the cache, so nothing here would return them: unheld,
            # the upkeep's sweep requeues them.
            broker.settle(self.queue_name, redis_ids)
            raise
        fetched_at = time.monotonic()
        self.message_cache = [(fetched_at, message) for message in messages]
        return bool(pairs)

    def _decode(self, redis_id: str, data: bytes | None) -> dramatiq.Message | None:
        broker = self.broker
        if data is None:
            broker.settle(self.queue_name, [redis_id])
            broker.client.srem(broker.acks_key(self.queue_name), redis_id)
            logger.warning(
                "Message {} on {} has no payload; dropped its id",
                redis_id,
                self.queue_name,
            )
            return None
        message, reason = _decoded(data, broker.max_message_bytes)
        if reason is not None:
            broker.settle(self.queue_name, [redis_id])
            broker.dead_letter(self.queue_name, redis_id, reason)
            return None
        message.options["redis_message_id"] = redis_id
        return message

    def _guard(self, call, argument) -> None:
        try:
            call(argument)
        except REDIS_ERRORS as error:
            self.broker.outage.failed(error)
            raise ConnectionClosed(error) from None
        except ConnectionClosed as error:
            self.broker.outage.failed(error)
            raise
        self.broker.outage.succeeded()


class _Rate:
    """Messages finished per second, over the last half second or so.

    Ticks come from every worker thread; a lost tick only blurs the figure.
    A pause (an empty queue) keeps the figure of the last busy window, so the
    first fetch after it is as large as the pace before it.
    """

    def __init__(self) -> None:
        self.per_s = 0.0
        self._count = 0
        self._since = time.monotonic()

    def tick(self) -> None:
        self._count += 1
        now = time.monotonic()
        span_s = now - self._since
        if span_s >= 4 * RATE_WINDOW_S:
            self._count, self._since = 0, now
        elif span_s >= RATE_WINDOW_S:
            self.per_s = self._count / span_s
            self._count, self._since = 0, now


def _decoded(data: bytes, max_bytes: int) -> tuple[dramatiq.Message | None, str | None]:
    if len(data) > max_bytes:
        return None, f"payload of {len(data)} bytes is over the {max_bytes} byte limit"
    try:
        message = dramatiq.Message.decode(data)
    except DecodeError as error:
        return None, f"payload is not a Dramatiq message: {error.error!r:.200}"
    return message, _shape_fault(message)


def _shape_fault(message: dramatiq.Message) -> str | None:
    if not isinstance(message.actor_name, str) or not message.actor_name:
        return "payload has no actor_name"
    if not isinstance(message.options, dict) or not isinstance(message.kwargs, dict):
        return "payload's options and kwargs must be JSON objects"
    return None

