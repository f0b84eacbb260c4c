"""Dramatiq's Redis broker, with the delivery gaps of the stock one closed.

Its consumers are :class:`~shared_kernel.redis_consumer.PlatformConsumer`.

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
- A send is one script call that also counts it and wakes idle consumers
  (see :mod:`shared_kernel.storing`); :meth:`PlatformRedisBroker.enqueue_many`
  stores whole batches in one call each.
"""

import threading
import time
import weakref
from collections import defaultdict
from collections.abc import Iterable

import dramatiq
import pydantic_core
import redis
from dramatiq.brokers.redis import RedisBroker
from dramatiq.common import current_millis, dq_name
from dramatiq.encoder import JSONEncoder
from dramatiq.errors import ConnectionClosed
from dramatiq.message import get_encoder
from loguru import logger

from shared_kernel.deadletters import record_reason
from shared_kernel.errors import ContractError, PlatformError
from shared_kernel.hooks import CachedHooks
from shared_kernel.ids import new_id
from shared_kernel.bulk import enqueue_many
from shared_kernel.outage import OutageLog
from shared_kernel.redis_consumer import PlatformConsumer
from shared_kernel.settlement import Settlements
from shared_kernel.storing import MessageStore, wake_channel
from shared_kernel.wake import WakeListener

REDIS_ERRORS = (redis.ConnectionError, redis.TimeoutError)
MAX_BATCH = 1000

# KEYS[1]: namespace. ARGV: queue, worker id, how many to fetch. Like
# Dramatiq's fetch, but it returns each id beside its payload; the upkeep
# thread beats the heartbeat, so a fetch does not.
_FETCH = """
local namespace, queue, worker = KEYS[1], ARGV[1], ARGV[2]
local ids = redis.call("lpop", namespace .. ":" .. queue, ARGV[3])
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
    """Raised when Redis stayed unreachable for the whole send timeout.

    ``stored`` holds the messages of a bulk send that were stored before.
    """

    def __init__(self, message: str, *, stored: list | None = None) -> None:
        PlatformError.__init__(self, message)
        self.message = message
        self.stored = stored or []


class MessageTooLarge(ContractError):
    """Raised when an encoded message is over the broker's size limit.

    ``refused`` is that message; ``stored`` holds the messages of a bulk send
    that were stored before it was found.
    """

    def __init__(
        self, message: str, *, refused=None, stored: list | None = None
    ) -> None:
        ContractError.__init__(self, message)
        self.message = message
        self.refused = refused
        self.stored = stored or []


class PlatformRedisBroker(CachedHooks, RedisBroker):
    """A ``RedisBroker`` that keeps every accepted message, whatever fails.

    Args:
        address: Where Redis is, without credentials, for log lines.
        enqueue_timeout_s: How long a send retries a lost connection.
        max_message_bytes: Larger messages are refused when sent, and
            dead-lettered when found in a queue.
        prefetch_hold_s: How long a fetched message may wait for a thread
            before it goes back to its queue.
        idle_poll_s: How often an idle consumer looks for messages that
            came without a wake notice.
        **options: Passed to ``RedisBroker``.
    """

    counts_sends = True  # the store script counts each send (see QueueStats)

    def __init__(
        self,
        *,
        address: str,
        enqueue_timeout_s: float,
        max_message_bytes: int,
        prefetch_hold_s: float = 2.0,
        idle_poll_s: float = 5.0,
        **options,
    ) -> None:
        super().__init__(**options)
        self.address = address
        self.enqueue_timeout_s = enqueue_timeout_s
        self.max_message_bytes = max_message_bytes
        self.prefetch_hold_s = prefetch_hold_s
        self.idle_poll_s = idle_poll_s
        self.outage = OutageLog(address)
        self.fetch_script = self.client.register_script(_FETCH)
        self.messages = MessageStore(self.client, namespace=self.namespace)
        self.settlements = Settlements(self)
        self.work_queue = None
        self.worker_threads: int | None = None
        self._consumer_threads: dict[str, object] = {}
        self._thread_freed = threading.Event()
        self._running = 0
        self._running_lock = threading.Lock()
        self._listeners: weakref.WeakSet[WakeListener] = weakref.WeakSet()
        self._held: dict[str, set[str]] = defaultdict(set)
        self._held_lock = threading.Lock()
        self._suspects: dict[str, set[str]] = {}
        self.add_middleware(_WorkerLink())

    @property
    def consumer_class(self):
        return PlatformConsumer

    def enqueue(self, message: dramatiq.Message, *, delay: int | None = None):
        """Store ``message``, retrying a lost connection until the timeout.

        Raises:
            MessageTooLarge: When the encoded message is over the size limit.
            BrokerUnavailable: When Redis did not answer within the timeout;
                the message was not stored.
        """
        queue_name, options = message.queue_name, {"redis_message_id": new_id()}
        if delay is not None:
            queue_name = dq_name(queue_name)
            options["eta"] = current_millis() + delay
        message = message.copy(queue_name=queue_name, options=options)
        self.emit_before("enqueue", message, delay)
        entry = (options["redis_message_id"], self.encoded(message))
        what = f"message {message.message_id} was not stored"
        self._store(queue_name, [entry], counter=_counter(message), what=what)
        self.emit_after("enqueue", message, delay)
        return message

    def enqueue_many(
        self, messages: Iterable[dramatiq.Message], *, batch_size: int = MAX_BATCH
    ) -> list[dramatiq.Message]:
        """Store ``messages`` in batches of ``batch_size``, one call each.

        Each batch is stored whole or not at all; Dramatiq workers consume
        the messages as any others. Each message gets its Redis id in its
        options, as :meth:`enqueue` gives it to its copy.

        Raises:
            MessageTooLarge: When a message is over the size limit; the
                batches before its own were stored.
            BrokerUnavailable: When Redis stayed unreachable; its ``stored``
                holds the messages stored before.
        """
        return enqueue_many(self, messages, batch_size=batch_size)

    def store_entries(self, queue_name: str, entries, *, what: str) -> None:
        """Store encoded ``entries`` (redis id, payload) of first sends.

        Raises:
            BrokerUnavailable: When Redis did not answer within the timeout.
        """
        self._store(queue_name, entries, counter="sent", what=what)

    def encoded(self, message: dramatiq.Message) -> bytes:
        """Encode ``message``, refusing it when it is over the size limit.

        Raises:
            MessageTooLarge: When the encoded message is too large.
        """
        data = _encode(message)
        size = len(data)
        if size > self.max_message_bytes:
            raise MessageTooLarge(
                f"a message for {message.actor_name} of {size} bytes is over "
                f"the {self.max_message_bytes} byte limit; send a reference to the "
                "data instead",
                refused=message,
            )
        return data

    def _store(self, queue_name: str, entries, *, counter: str, what: str) -> None:
        # Retrying is safe: the script skips ids it stored already.
        deadline = time.monotonic() + self.enqueue_timeout_s
        for attempt in range(1_000_000):
            try:
                self.messages.store(queue_name, entries, counter=counter)
            except redis.AuthenticationError:
                raise  # a wrong password is no outage: waiting cannot fix it
            except REDIS_ERRORS as error:
                self.outage.failed(error)
                if time.monotonic() >= deadline:
                    raise BrokerUnavailable(
                        f"Redis at {self.address} stayed unreachable for "
                        f"{self.enqueue_timeout_s:g} s; {what}"
                    ) from error
                time.sleep(min(0.1 * 2**attempt, 2.0))
            else:
                self.outage.succeeded()
                return

    def listener(self, queue_name: str) -> WakeListener:
        """Return a new wake listener for a consumer of ``queue_name``."""
        listener = WakeListener(self.client, queue_name)
        self._listeners.add(listener)
        return listener

    def stop_waiting(self) -> None:
        """End every consumer's wait: the worker is stopping."""
        for listener in self._listeners:
            listener.interrupt()

    def wake_others(self, queue_name: str, count: int) -> None:
        """Tell idle consumers that ``count`` messages came back to a queue."""
        try:
            self.client.publish(wake_channel(queue_name), count)
        except redis.RedisError:
            pass  # they find the messages at their next poll

    def workers_busy(self) -> bool:
        """Whether every worker thread runs a message or has one waiting.

        A consumer hands a message over only when this is false, so a message
        waits in the worker's queue only for a thread that is free already
        (or, when consumers of several queues hand over at once, for one
        message's run at most).
        """
        work_queue = self.work_queue
        if work_queue is None:
            return False
        return self._running + work_queue.qsize() >= self.worker_threads

    def wait_for_a_free_thread(self, timeout_s: float) -> None:
        """Wait until a worker thread finishes a message, or ``timeout_s``."""
        self._thread_freed.clear()
        if self.workers_busy():
            self._thread_freed.wait(timeout_s)

    def thread_started(self) -> None:
        """Count a worker thread that began a message."""
        with self._running_lock:
            self._running += 1

    def thread_finished(self) -> None:
        """Count a worker thread that is done with its message."""
        with self._running_lock:
            self._running -= 1
        self._thread_freed.set()

    def next_eta_ms(self, queue_name: str) -> int | None:
        """Return when the first delayed message of ``queue_name`` is due."""
        thread = self._consumer_threads.get(queue_name)
        waiting = getattr(getattr(thread, "delay_queue", None), "queue", None)
        return waiting[0].priority if waiting else None

    def prefetch_hooks(self) -> list[tuple]:
        """Return the (claim, release) hooks of middleware that claims keys."""
        return [
            (middleware.claim_prefetched, middleware.release_prefetched)
            for middleware in self.middleware
            if hasattr(middleware, "claim_prefetched")
        ]

    def hold(self, queue: str, *redis_ids: str) -> None:
        """Note that this process took ``redis_ids`` from ``queue``."""
        with self._held_lock:
            self._held[queue].update(redis_ids)

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


class _WorkerLink(dramatiq.Middleware):
    """Tell the broker about the worker, which its consumers pace themselves by."""

    def before_worker_boot(self, broker, worker) -> None:
        broker.work_queue = worker.work_queue
        broker.worker_threads = worker.worker_threads

    def after_consumer_thread_boot(self, broker, thread) -> None:
        broker._consumer_threads[thread.queue_name] = thread

    def __init__(self) -> None:
        self._local = threading.local()

    def before_process_message(self, broker, message) -> None:
        self._local.running = True
        broker.thread_started()

    def after_process_message(self, broker, message, *, result=None, exception=None):
        self._finished(broker)

    def after_skip_message(self, broker, message) -> None:
        self._finished(broker)

    def _finished(self, broker) -> None:
        # A middleware before this one may have skipped the message first.
        if getattr(self._local, "running", False):
            self._local.running = False
            broker.thread_finished()

    def before_worker_shutdown(self, broker, worker) -> None:
        # Workers drain first; what a consumer fetched now would only wait.
        broker.stop_waiting()


def _encode(message: dramatiq.Message) -> bytes:
    # The bytes Dramatiq's default JSON encoder writes, from pydantic's
    # serializer (four times quicker), where the process uses that encoder.
    if type(get_encoder()) is not JSONEncoder:
        return message.encode()
    fields = {
        "queue_name": message.queue_name,
        "actor_name": message.actor_name,
        "args": message.args,
        "kwargs": message.kwargs,
        "options": message.options,
        "message_id": message.message_id,
        "message_timestamp": message.message_timestamp,
    }
    try:
        return pydantic_core.to_json(fields)
    except pydantic_core.PydanticSerializationError:
        return message.encode()  # fails as Dramatiq's would, or copes


def _counter(message: dramatiq.Message) -> str:
    again = message.options.get("retries") or message.options.get("deferrals")
    return "retried" if again else "sent"

