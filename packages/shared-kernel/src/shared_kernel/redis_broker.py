"""Dramatiq's Redis broker, with the delivery gaps of the stock one closed.

- A send retries a lost connection with backoff for a bounded time, then
  fails with :class:`BrokerUnavailable`; it never reports a message it did not
  store.
- The consumer fetches ids together with payloads, so a payload that is not a
  Dramatiq message (not JSON, missing fields, over the size limit) is
  dead-lettered with its reason instead of failing every fetch and stranding
  the good messages fetched with it.
- The broker knows which fetched messages this process still holds. When a
  consumer restarts after a connection error, Dramatiq drops its in-memory
  delayed messages while their ids stay in this live worker's acknowledgement
  set, where nothing would ever return them. The new consumer requeues every
  id of its acknowledgement set that this process no longer holds.
- :meth:`PlatformRedisBroker.release` returns everything still held, so a
  stopped consumer leaves nothing in its acknowledgement sets.
"""

import threading
import time
from collections import defaultdict

import dramatiq
import redis
from dramatiq.broker import MessageProxy
from dramatiq.brokers.redis import RedisBroker, _RedisConsumer
from dramatiq.common import compute_backoff, current_millis, dq_name
from dramatiq.errors import ConnectionClosed, DecodeError
from loguru import logger

from shared_kernel.deadletters import record_reason
from shared_kernel.errors import PlatformError
from shared_kernel.outage import OutageLog

REDIS_ERRORS = (redis.ConnectionError, redis.TimeoutError)
MAX_PREFETCH = 1000

# KEYS[1]: namespace. ARGV: queue, worker id, now in ms, how many to fetch.
# Like Dramatiq's fetch, but it returns each id beside its payload.
_FETCH = """
local namespace, queue, worker = KEYS[1], ARGV[1], ARGV[2]
redis.call("zadd", namespace .. ":__heartbeats__", ARGV[3], worker)
local ids = redis.call("lpop", namespace .. ":" .. queue, ARGV[4])
if not ids then return {} end
redis.call("sadd", namespace .. ":__acks__." .. worker .. "." .. queue, unpack(ids))
local payloads = redis.call("hmget", namespace .. ":" .. queue .. ".msgs", unpack(ids))
local out = {}
for i = 1, #ids do
  out[2 * i - 1] = ids[i]
  out[2 * i] = payloads[i]
end
return out
"""


class BrokerUnavailable(PlatformError, ConnectionClosed):
    """Raised when Redis stayed unreachable for the whole send timeout."""

    def __init__(self, message: str) -> None:
        PlatformError.__init__(self, message)
        self.message = message


class PlatformRedisBroker(RedisBroker):
    """A ``RedisBroker`` that keeps every accepted message, whatever fails.

    Args:
        address: Where Redis is, without credentials, for log lines.
        enqueue_timeout_s: How long a send retries a lost connection.
        max_message_bytes: Larger payloads found in a queue are dead-lettered.
        **options: Passed to ``RedisBroker``.
    """

    def __init__(self, *, address: str, enqueue_timeout_s: float,
                 max_message_bytes: int, **options) -> None:
        super().__init__(**options)
        self.address = address
        self.enqueue_timeout_s = enqueue_timeout_s
        self.max_message_bytes = max_message_bytes
        self.outage = OutageLog(address)
        self.fetch_script = self.client.register_script(_FETCH)
        self._held: dict[str, set[str]] = defaultdict(set)
        self._held_lock = threading.Lock()
        self._suspects: dict[str, set[str]] = {}

    @property
    def consumer_class(self):
        return PlatformConsumer

    def enqueue(self, message: dramatiq.Message, *, delay: int | None = None):
        """Store ``message``, retrying a lost connection until the timeout.

        Raises:
            BrokerUnavailable: When Redis did not answer within the timeout;
                the message was not stored.
        """
        deadline = time.monotonic() + self.enqueue_timeout_s
        for attempt in range(1_000_000):
            try:
                sent = super().enqueue(message, delay=delay)
            except redis.AuthenticationError:
                raise  # a wrong password is no outage: waiting cannot fix it
            except REDIS_ERRORS as error:
                self.outage.failed(error)
                if time.monotonic() >= deadline:
                    raise BrokerUnavailable(
                        f"Redis at {self.address} stayed unreachable for "
                        f"{self.enqueue_timeout_s:g} s; message {message.message_id} "
                        "was not stored, send it again later"
                    ) from error
                time.sleep(min(0.1 * 2**attempt, 2.0))
            else:
                self.outage.succeeded()
                return sent

    def hold(self, queue: str, redis_id: str) -> None:
        """Note that this process took ``redis_id`` from ``queue``."""
        with self._held_lock:
            self._held[queue].add(redis_id)

    def settle(self, queue: str, redis_ids) -> None:
        """Note that this process no longer holds ``redis_ids`` of ``queue``."""
        with self._held_lock:
            self._held[queue].difference_update(redis_ids)

    def held(self, queue: str) -> set[str]:
        """Return the ids of ``queue`` this process holds right now."""
        with self._held_lock:
            return set(self._held[queue])

    def acks_key(self, queue: str) -> str:
        """Return the key of this process's acknowledgement set of ``queue``."""
        return f"{self.namespace}:__acks__.{self.broker_id}.{queue}"

    def requeue_orphans(self, queue: str) -> int:
        """Requeue ids of our acknowledgement set of ``queue`` we do not hold.

        On a delay queue every id is an orphan once its consumer restarts:
        Dramatiq keeps delayed messages only in the consumer's memory.
        """
        if queue.endswith(".DQ"):
            self.settle(queue, self.held(queue))
        members = {m.decode() for m in self.client.smembers(self.acks_key(queue))}
        orphans = sorted(members - self.held(queue))
        if orphans:
            self.do_requeue(queue, *orphans)
            logger.warning("Requeued {} message(s) of {} this consumer had lost track "
                           "of after a connection error", len(orphans), queue)
        return len(orphans)

    def sweep_orphans(self, queue: str) -> int:
        """Requeue ids of our acknowledgement set we have not held for a while.

        A fetch can reach Redis after its client gave up on it (a link down,
        then back): Redis hands the messages to this live worker, whose reply
        is lost, and nothing would ever return them. An id seen unheld on two
        passes in a row is such an orphan; one pass could race a fetch whose
        reply is on its way.
        """
        members = {m.decode() for m in self.client.smembers(self.acks_key(queue))}
        unheld = members - self.held(queue)
        orphans = unheld & self._suspects.get(queue, set())
        self._suspects[queue] = unheld - orphans
        if orphans:
            self.do_requeue(queue, *orphans)
            logger.warning("Requeued {} message(s) of {} fetched by a request whose "
                           "reply was lost", len(orphans), queue)
        return len(orphans)

    def release(self, queues) -> int:
        """Requeue whatever this process still holds, then drop its heartbeat.

        Called once the worker stopped: a message still running past the
        shutdown timeout goes back to its queue now instead of waiting for
        heartbeat-based recovery, and claims of this worker become free.
        """
        released = 0
        for queue in queues:
            for name in (queue, dq_name(queue)):
                ids = [m.decode() for m in self.client.smembers(self.acks_key(name))]
                if ids:
                    self.do_requeue(name, *ids)
                    released += len(ids)
        self.client.zrem(f"{self.namespace}:__heartbeats__", self.broker_id)
        self.client.delete(f"platform:consumers:{self.broker_id}")
        return released

    def dead_letter(self, queue: str, redis_id: str, reason: str) -> None:
        """Move a fetched payload that cannot be a message to the dead letters."""
        self.do_nack(queue, redis_id)
        record_reason(self.client, queue, redis_id, reason=reason,
                      actor="-", message_id="-")
        logger.error("Message {} on {} dead-lettered: {}", redis_id, queue, reason)


class PlatformConsumer(_RedisConsumer):
    """Fetches ids with payloads, and dead-letters payloads it cannot decode."""

    def __init__(self, broker: PlatformRedisBroker, queue_name, prefetch, timeout):
        super().__init__(broker, queue_name, min(prefetch, MAX_PREFETCH), timeout)
        self._needs_sweep = True

    # An id stays held until Redis confirmed its ack, nack or requeue, so a
    # consumer restarted meanwhile does not requeue it as an orphan.
    def ack(self, message) -> None:
        self._guard(super().ack, message)
        self.broker.settle(self.queue_name, [message.options["redis_message_id"]])

    def nack(self, message) -> None:
        self._guard(super().nack, message)
        self.broker.settle(self.queue_name, [message.options["redis_message_id"]])

    def requeue(self, messages) -> None:
        messages = list(messages)
        if not messages:
            return
        self._guard(super().requeue, messages)
        ids = [message.options["redis_message_id"] for message in messages]
        self.broker.settle(self.queue_name, ids)

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
        while True:
            if self.message_cache:
                redis_id, data = self.message_cache.pop(0)
                message = self._decode(redis_id, data)
                if message is None:
                    continue
                self.misses = 0
                self.queued_message_ids.add(message.message_id)
                return MessageProxy(message)

            if self.outstanding_message_count < self.prefetch:
                self.message_cache = self._fetch(
                    self.prefetch - self.outstanding_message_count
                )
            if not self.message_cache:
                self.misses, backoff_ms = compute_backoff(
                    self.misses, max_backoff=self.timeout
                )
                time.sleep(backoff_ms / 1000)
                return None

    def _fetch(self, count: int) -> list[tuple[str, bytes | None]]:
        broker = self.broker
        flat = broker.fetch_script(
            keys=[broker.namespace],
            args=[self.queue_name, broker.broker_id, current_millis(), count],
        )
        broker.outage.succeeded()
        pairs = [(flat[i].decode(), flat[i + 1]) for i in range(0, len(flat), 2)]
        for redis_id, _ in pairs:
            broker.hold(self.queue_name, redis_id)
        return pairs

    def _decode(self, redis_id: str, data: bytes | None) -> dramatiq.Message | None:
        broker = self.broker
        if data is None:
            broker.settle(self.queue_name, [redis_id])
            broker.client.srem(broker.acks_key(self.queue_name), redis_id)
            logger.warning("Message {} on {} has no payload; dropped its id",
                           redis_id, self.queue_name)
            return None
        reason = _fault(data, broker.max_message_bytes)
        message = None
        if reason is None:
            try:
                message = dramatiq.Message.decode(data)
                reason = _shape_fault(message)
            except DecodeError as error:
                reason = f"payload is not a Dramatiq message: {error.error!r:.200}"
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


def _fault(data: bytes, max_bytes: int) -> str | None:
    if len(data) > max_bytes:
        return f"payload of {len(data)} bytes is over the {max_bytes} byte limit"
    return None


def _shape_fault(message: dramatiq.Message) -> str | None:
    if not isinstance(message.actor_name, str) or not message.actor_name:
        return "payload has no actor_name"
    if not isinstance(message.options, dict) or not isinstance(message.kwargs, dict):
        return "payload's options and kwargs must be JSON objects"
    return None
