"""Prometheus metrics: each consumer's own counters, and queue depths on demand.

A consumer started with ``METRICS_PORT`` serves ``/metrics`` there (worker
process *n* of ``--processes`` on ``METRICS_PORT + n``): messages processed,
failed, retried and dead-lettered, a duration histogram and the messages in
progress, per context and actor. ``platform-status --serve-metrics PORT``
serves the queue depths and live consumers of the whole platform as gauges.
"""

import threading
import time
from typing import Any, NamedTuple

import dramatiq
from dramatiq.common import q_name
from prometheus_client import Counter, Gauge, Histogram, start_http_server
from prometheus_client.core import GaugeMetricFamily
from prometheus_client.registry import REGISTRY, Collector

LABELS = ("context", "actor")

PROCESSED = Counter(
    "platform_messages_processed_total", "Messages handled successfully.", LABELS
)
FAILED = Counter(
    "platform_messages_failed_total", "Failed attempts at handling a message.", LABELS
)
RETRIED = Counter(
    "platform_messages_retried_total", "Messages scheduled for another attempt.", LABELS
)
DEAD = Counter(
    "platform_messages_dead_lettered_total",
    "Messages moved to the dead letters.",
    LABELS,
)
DURATION = Histogram(
    "platform_message_duration_seconds",
    "Time spent handling one message.",
    LABELS,
    buckets=(0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 300),
)
IN_PROGRESS = Gauge(
    "platform_messages_in_progress", "Messages being handled right now.", LABELS
)


_PER_ACTOR = (IN_PROGRESS, DURATION, PROCESSED, FAILED, RETRIED, DEAD)


class _ActorMetrics(NamedTuple):
    """The labelled metrics of one actor, looked up once."""

    in_progress: Any
    duration: Any
    processed: Any
    failed: Any
    retried: Any
    dead: Any


class Metrics(dramatiq.Middleware):
    """Count what this process does with messages, per context and actor."""

    def __init__(self, *, context: str, port: int | None, host: str = "0.0.0.0"):
        self.context = context
        self.port = port
        self.host = host
        self._actors: dict[str, _ActorMetrics] = {}
        # A message is handled in one worker thread, from start to end.
        self._local = threading.local()

    def after_worker_boot(self, broker, worker) -> None:
        if self.port:
            start_http_server(self.port, addr=self.host)

    def before_process_message(self, broker, message) -> None:
        self._of(message.actor_name).in_progress.inc()
        self._local.started = (message.message_id, time.perf_counter())

    def after_process_message(self, broker, message, *, result=None, exception=None):
        started = getattr(self._local, "started", None)
        if started is None or started[0] != message.message_id:
            return
        self._local.started = None
        metrics = self._of(message.actor_name)
        metrics.in_progress.dec()
        metrics.duration.observe(time.perf_counter() - started[1])
        (metrics.processed if exception is None else metrics.failed).inc()

    after_skip_message = after_process_message

    def after_enqueue(self, broker, message, delay) -> None:
        if message.options.get("retries"):
            self._of(message.actor_name).retried.inc()

    def after_nack(self, broker, message) -> None:
        self._of(message.actor_name).dead.inc()

    def _of(self, actor: str) -> _ActorMetrics:
        metrics = self._actors.get(actor)
        if metrics is None:
            labels = (self.context, actor)
            metrics = _ActorMetrics(
                *(metric.labels(*labels) for metric in _PER_ACTOR)
            )
            self._actors[actor] = metrics
        return metrics


class QueueDepths(Collector):
    """Collect the platform's queue depths from Redis at each scrape."""

    def __init__(self, read_status) -> None:
        self._read_status = read_status

    def collect(self):
        status = self._read_status()
        families = {
            name: GaugeMetricFamily(
                f"platform_queue_{name}", help_text, labels=["context", "queue"]
            )
            for name, help_text in (
                ("waiting", "Messages waiting in the queue."),
                ("delayed", "Messages waiting for their time or next retry."),
                ("in_flight", "Messages taken by a consumer, not yet done."),
                ("dead", "Dead-lettered messages."),
                ("oldest_waiting_seconds", "Age of the oldest waiting message."),
            )
        }
        for queue in status["queues"]:
            labels = [queue["context"], q_name(queue["queue"])]
            for name in ("waiting", "delayed", "in_flight", "dead"):
                families[name].add_metric(labels, queue[name])
            families["oldest_waiting_seconds"].add_metric(
                labels, queue["oldest_waiting_s"] or 0.0
            )
        alive = GaugeMetricFamily(
            "platform_consumers_alive",
            "Consumers with a fresh heartbeat.",
            labels=["context"],
        )
        counts: dict[str, int] = {}
        for consumer in status["consumers"]:
            counts.setdefault(consumer["context"], 0)
            counts[consumer["context"]] += int(consumer["alive"])
        for context, count in counts.items():
            alive.add_metric([context], count)
        yield from families.values()
        yield alive


def serve_queue_depths(read_status, port: int, host: str = "127.0.0.1") -> None:
    """Serve the queue depths as Prometheus gauges until interrupted."""
    REGISTRY.register(QueueDepths(read_status))
    start_http_server(port, addr=host)
