"""A consumer process for the benchmark: plain Dramatiq's, or the kernel's.

    python -m devtools.bench.worker plain|kernel --threads N [--prefetch P]
        [--queue Q ...] [--record KEY]

``plain`` is a stock ``RedisBroker`` with Dramatiq's default middleware;
``kernel`` is the kernel's broker with all its middleware, its logging to
files and a ``contract_actor``, in a ``dramatiq.Worker`` built as the
kernel's runner builds it. The actors do nothing, or, with ``--record``, push
``{"sent": ..., "received": ...}`` to the list ``KEY``. The process prints
``ready`` on stdout once it consumes, and stops on SIGTERM.
"""

import argparse
import json
import logging
import os
import signal
import sys
import threading
import time

import dramatiq
from dramatiq import Worker
from dramatiq.brokers.redis import RedisBroker

from devtools.bench.messages import BENCH_ACTOR, BENCH_QUEUE
from devtools.bench.rig import plain_client
from shared_kernel import RecordLog, Settings, configure_logging, install_broker
from shared_kernel.messaging import contract_actor
from shared_kernel.runner import build_worker

STOP_TIMEOUT_MS = 10_000


def main(argv: list[str] | None = None) -> None:
    """Consume until SIGTERM, then stop as the kernel's runner does."""
    args = _parse_args(argv)
    stop = threading.Event()
    for signum in (signal.SIGTERM, signal.SIGINT):
        signal.signal(signum, lambda *_: stop.set())
    broker, worker = _broker_and_worker(args, Settings.from_env())
    if args.prefetch:
        # What dramatiq_queue_prefetch would set when dramatiq.worker is imported.
        worker.queue_prefetch = args.prefetch
    worker.start()
    print("ready", flush=True)
    # Nobody reads the pipe after that line: what follows goes to stderr,
    # which the bench keeps in this worker's console file.
    os.dup2(sys.stderr.fileno(), sys.stdout.fileno())

    stop.wait()
    worker.stop(timeout=STOP_TIMEOUT_MS)
    if args.kind == "kernel":
        broker.release(args.queues)
    broker.close()


def _parse_args(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        prog="python -m devtools.bench.worker", description=__doc__.split("\n")[0]
    )
    parser.add_argument("kind", choices=("plain", "kernel"))
    parser.add_argument("--threads", type=int, default=8)
    parser.add_argument("--prefetch", type=int, default=0)
    parser.add_argument("--queue", dest="queues", action="append")
    parser.add_argument("--record", metavar="KEY")
    args = parser.parse_args(argv)
    args.queues = args.queues or [BENCH_QUEUE]
    if args.kind == "kernel" and args.queues != [BENCH_QUEUE]:
        parser.error(f"the kernel worker consumes the {BENCH_QUEUE} queue only")
    return args


def _broker_and_worker(
    args: argparse.Namespace, settings: Settings
) -> tuple[dramatiq.Broker, Worker]:
    if args.kind == "kernel":
        broker = _kernel_broker(settings, args.queues, args.record)
        worker = build_worker(
            broker, args.queues, threads=args.threads, settings=settings
        )
    else:
        broker = _plain_broker(settings, args.queues, args.record)
        worker = Worker(broker, queues=set(args.queues), worker_threads=args.threads)
    return broker, worker


def _kernel_broker(settings: Settings, queues: list[str], record_key: str | None):
    settings.require_secure()
    configure_logging(settings, console=False)
    broker = install_broker(settings)
    recorder = _Recorder(broker.client, record_key)

    @contract_actor(RecordLog)
    def record_log(entry: RecordLog) -> None:
        recorder.received(entry.text)

    return broker


def _plain_broker(settings: Settings, queues: list[str], record_key: str | None):
    logging.basicConfig(level=logging.WARNING)
    broker = RedisBroker(client=plain_client(settings.redis))
    dramatiq.set_broker(broker)
    recorder = _Recorder(broker.client, record_key)

    def handle(payload: dict) -> None:
        recorder.received(payload["text"])

    for queue in queues:
        name = BENCH_ACTOR if queue == BENCH_QUEUE else f"bench_{queue}"
        dramatiq.actor(handle, actor_name=name.replace(".", "_"), queue_name=queue)
    return broker


class _Recorder:
    """Push when each message was sent and received, when asked to."""

    def __init__(self, client, key: str | None) -> None:
        self.client = client
        self.key = key

    def received(self, sent: str) -> None:
        received = time.time()
        if self.key:
            entry = {"sent": float(sent), "received": received}
            self.client.rpush(self.key, json.dumps(entry))


if __name__ == "__main__":
    main()
