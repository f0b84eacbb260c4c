"""Group commit of what follows a handled message: one round trip for many.

After an actor ran, the kernel acknowledges the message, marks its
idempotency key done, counts it and records its trace hop. Done one by one,
that is four round trips per message. Instead, middleware *stages* its steps
in the worker thread, and the acknowledgement *commits* them: the first
thread to commit sends everything pending in one script call, and threads
that commit while it is on the wire leave their steps for its next call. A
lone message is sent at once, so nothing waits for a batch to fill; under
load, one call settles many messages. The script runs atomically, so a
message's acknowledgement is never stored without its done mark.
"""

import json
import threading
import time
from collections import Counter
from collections.abc import Callable

import redis
from loguru import logger

REDIS_ERRORS = (redis.ConnectionError, redis.TimeoutError)
MAX_STEPS_PER_CALL = 2000
TRACE_MAX_ENTRIES = 500

# KEYS[1]: namespace. ARGV[1]: worker id; ARGV[2]: a JSON list of steps, each
# a list of a code and its arguments: A queue id (acknowledge), D done claim
# owner ttl_s mark (release an idempotency claim), C key field n (count),
# E key ttl_s (expire), T key hop ttl_s max_entries (append a trace hop).
# One JSON argument costs the client far less to send than many small ones.
_SETTLE = """
local ns, worker = KEYS[1], ARGV[1]
for _, step in ipairs(cjson.decode(ARGV[2])) do
  local op = step[1]
  if op == 'A' then
    local acks = ns .. ':__acks__.' .. worker .. '.' .. step[2]
    if redis.call('srem', acks, step[3]) > 0 then
      redis.call('hdel', ns .. ':' .. step[2] .. '.msgs', step[3])
    end
  elseif op == 'D' then
    if step[6] == 1 then redis.call('set', step[2], '1', 'EX', step[5]) end
    if redis.call('get', step[3]) == step[4] then redis.call('del', step[3]) end
  elseif op == 'C' then
    redis.call('hincrby', step[2], step[3], step[4])
  elseif op == 'E' then
    redis.call('expire', step[2], step[3])
  elseif op == 'T' then
    redis.call('rpush', step[2], cjson.encode(step[3]))
    redis.call('ltrim', step[2], -step[5], -1)
    redis.call('expire', step[2], step[4])
  else
    return redis.error_reply('unknown settlement step ' .. tostring(op))
  end
end
return 1
"""


class Settlements:
    """Stages the steps that follow each message, and commits them in groups.

    Args:
        broker: The platform broker whose client, namespace and id are used.
    """

    def __init__(self, broker) -> None:
        self._broker = broker
        self._script = broker.client.register_script(_SETTLE)
        self._staged = threading.local()
        self._pending: list[tuple[list, list[Callable[[], None]]]] = []
        self._lock = threading.Lock()
        self._flushing = False

    def stage(self, *step, then: Callable[[], None] | None = None) -> None:
        """Add one step for the message this thread handles.

        ``then`` runs once the step is stored in Redis.
        """
        steps, callbacks = self._thread_batch()
        steps.append(step)
        if then is not None:
            callbacks.append(then)

    def commit(self, ack: tuple[str, str] | None = None) -> None:
        """Send this thread's staged steps, and ``ack`` (queue, redis id).

        Returns once they are stored, or once they are handed to the thread
        that is sending right now, which stores them next.
        """
        steps, callbacks = self._thread_batch()
        self._staged.batch = None
        if ack is not None:
            steps.append(("A", *ack))
            callbacks.append(lambda: self._broker.settle(ack[0], [ack[1]]))
        if not steps:
            return
        with self._lock:
            self._pending.append((steps, callbacks))
            if self._flushing:
                return
            self._flushing = True
        self._flush_pending()

    def _thread_batch(self) -> tuple[list, list]:
        batch = getattr(self._staged, "batch", None)
        if batch is None:
            batch = self._staged.batch = ([], [])
        return batch

    def _flush_pending(self) -> None:
        # Seeing nothing pending and giving up the sender's role happen under
        # one lock, so a step handed over meanwhile is never left behind.
        while True:
            with self._lock:
                batch, self._pending = self._pending, []
                if not batch:
                    self._flushing = False
                    return
            try:
                self._store(batch)
            except BaseException:
                with self._lock:
                    self._pending[:0] = batch
                    self._flushing = False
                raise

    def _store(self, batch: list[tuple[list, list]]) -> None:
        steps = _merged([step for steps, _ in batch for step in steps])
        for start in range(0, len(steps), MAX_STEPS_PER_CALL):
            self._send(steps[start : start + MAX_STEPS_PER_CALL])
        for _, callbacks in batch:
            for callback in callbacks:
                callback()

    def _send(self, steps: list[tuple]) -> None:
        broker = self._broker
        args = [broker.broker_id, json.dumps(steps, separators=(",", ":"))]
        for attempt in range(1_000_000):
            try:
                self._script(keys=[broker.namespace], args=args)
            except REDIS_ERRORS as error:
                # As Dramatiq does for a failed acknowledgement: wait for
                # Redis, since giving up would run the messages again.
                broker.outage.failed(error)
                time.sleep(min(0.1 * 2**attempt, 2.0))
            except redis.RedisError as error:
                logger.error(
                    "Could not settle {} step(s): {}; their messages will be "
                    "delivered again and skipped as done where marked",
                    len(steps),
                    error,
                )
                return
            else:
                broker.outage.succeeded()
                return


def _merged(steps: list[tuple]) -> list[tuple]:
    """Add up the counters of a batch, and expire each key once."""
    counts: Counter[tuple[str, str]] = Counter()
    expiries: dict[str, str] = {}
    others = []
    for step in steps:
        if step[0] == "C":
            counts[step[1], step[2]] += int(step[3])
        elif step[0] == "E":
            expiries[step[1]] = step[2]
        else:
            others.append(step)
    merged = others + [("C", key, field, n) for (key, field), n in counts.items()]
    return merged + [("E", key, ttl_s) for key, ttl_s in expiries.items()]

