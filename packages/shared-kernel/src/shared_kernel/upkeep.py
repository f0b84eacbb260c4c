"""Heartbeats and dead-consumer recovery on a timer, in every consumer.

Dramatiq returns a dead worker's unacknowledged messages only during
"maintenance", which runs on a random ~0.1% of broker calls, and a worker
whose threads are all busy sends no heartbeat at all. Each consumer process
therefore runs one thread that, every ``interval_s``, records its heartbeat and
runs maintenance on each of its queues: a consumer killed with SIGKILL has its
messages back in their queues within ``heartbeat timeout + interval_s``.

A pass costs a few commands when no worker is dead: maintenance runs on the
queues only when a heartbeat is stale, and the expiry of old dead letters
once a minute, so an idle consumer costs Redis less than a polling one.
"""

import os
import socket
import threading
import time

import dramatiq
import redis
from dramatiq.common import current_millis, dq_name
from loguru import logger

from shared_kernel.deadletters import reasons_key

REDIS_ERRORS = (redis.ConnectionError, redis.TimeoutError)
CONSUMERS_PREFIX = "platform:consumers:"
EXPIRY_EVERY_S = 60.0


def consumer_key(worker_id: str) -> str:
    """Return the key of the record a live consumer keeps about itself."""
    return f"{CONSUMERS_PREFIX}{worker_id}"


class Upkeep(dramatiq.Middleware):
    """Keep this worker's heartbeat fresh and recover dead workers' messages.

    Args:
        interval_s: Seconds between two passes; at most a third of the
            broker's heartbeat timeout, so a live worker never looks dead.
    """

    def __init__(self, *, interval_s: float, context: str = "app") -> None:
        self.interval_s = interval_s
        self.context = context
        self.started_ms = 0
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self._reported: set[str] = set()
        self._cursors: dict[str, int] = {}
        self._expired_at = 0.0

    def after_worker_boot(self, broker, worker) -> None:
        if not hasattr(broker, "fetch_script"):
            return
        queues = sorted(worker.consumer_whitelist or broker.get_declared_queues())
        self.started_ms = current_millis()
        self._stop.clear()
        self._thread = threading.Thread(
            target=self._run, args=(broker, queues), name="upkeep", daemon=True
        )
        self._thread.start()

    def after_worker_shutdown(self, broker, worker) -> None:
        # Heartbeats go on while in-flight work drains; they stop only here.
        self._stop.set()
        if self._thread is not None:
            self._thread.join(5)

    def _run(self, broker, queues: list[str]) -> None:
        while True:
            try:
                self.run_once(broker, queues)
                broker.outage.succeeded()
            except REDIS_ERRORS as error:
                broker.outage.failed(error)
            except Exception:  # noqa: BLE001
                # The heartbeat is this thread's: if it ended, live workers
                # would be taken for dead and their messages run twice.
                logger.exception("Upkeep pass failed; trying again in {} s",
                                 self.interval_s)
            if self._stop.wait(self.interval_s):
                return

    def run_once(self, broker, queues: list[str]) -> None:
        """Beat once, and recover dead workers' messages on every queue."""
        now = current_millis()
        self._register(broker, now, queues)
        dead = broker.client.zrangebyscore(
            f"{broker.namespace}:__heartbeats__", 0, now - broker.heartbeat_timeout
        )
        expire = time.monotonic() - self._expired_at >= EXPIRY_EVERY_S
        if dead:
            self._report_dead(broker, [m.decode() for m in dead], queues)
        for queue in queues:
            for name in (queue, dq_name(queue)):
                if dead or expire:
                    self._maintain(broker, now, name)
                broker.sweep_orphans(name)
            if expire:
                self._prune_reasons(broker, queue)
        if expire:
            self._expired_at = time.monotonic()

    @staticmethod
    def _maintain(broker, now: int, name: str) -> None:
        # Dramatiq's maintenance: dead workers' messages back to the queue,
        # expired dead letters dropped.
        broker.scripts["dispatch"](
            keys=[broker.namespace],
            args=[
                "qsize",
                now,
                name,
                broker.broker_id,
                broker.heartbeat_timeout,
                broker.dead_message_ttl,
                1,
                broker._max_unpack_size(),
            ],
        )

    def _register(self, broker, now: int, queues: list[str]) -> None:
        """Say who this consumer is, for the status and health commands."""
        key = consumer_key(broker.broker_id)
        with broker.client.pipeline(transaction=False) as pipe:
            pipe.zadd(f"{broker.namespace}:__heartbeats__", {broker.broker_id: now})
            pipe.hset(
                key,
                mapping={
                    "context": self.context,
                    "host": socket.gethostname(),
                    "pid": os.getpid(),
                    "queues": ",".join(queues),
                    "started_ms": self.started_ms,
                    "beat_ms": now,
                },
            )
            pipe.pexpire(key, broker.heartbeat_timeout * 4)
            pipe.execute()

    def _prune_reasons(self, broker, queue: str) -> None:
        """Drop reasons of dead letters that expired, a few per pass."""
        key = reasons_key(queue)
        cursor, reasons = broker.client.hscan(key, self._cursors.get(key, 0), count=50)
        self._cursors[key] = cursor
        if not reasons:
            return
        ids = list(reasons)
        with broker.client.pipeline(transaction=False) as pipe:
            for redis_id in ids:
                pipe.zscore(f"{broker.namespace}:{queue}.XQ", redis_id)
            scores = pipe.execute()
        gone = [redis_id for redis_id, score in zip(ids, scores) if score is None]
        if gone:
            broker.client.hdel(key, *gone)

    def _report_dead(self, broker, dead: list[str], queues: list[str]) -> None:
        for worker_id in dead:
            if worker_id in self._reported:
                continue
            held = [
                f"{broker.namespace}:__acks__.{worker_id}.{name}"
                for queue in queues
                for name in (queue, dq_name(queue))
            ]
            # Plain Dramatiq producers beat when they send; only a worker
            # holds messages.
            if broker.client.exists(*held):
                self._reported.add(worker_id)
                logger.warning(
                    "Worker {} missed its heartbeats for {} s; returning "
                    "its unfinished messages to their queues",
                    worker_id,
                    broker.heartbeat_timeout // 1000,
                )
