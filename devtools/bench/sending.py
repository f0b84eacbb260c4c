"""Send rate: plain Dramatiq's ``actor.send`` against the kernel's send paths.

Plain Dramatiq sends through a stock ``RedisBroker`` with its default
middleware. The kernel sends a ``RecordLog`` contract, validated from input
each time, through ``shared_kernel.messaging.send`` on the broker that
``build_broker`` makes, and in bulk through ``shared_kernel.send_many``, the
contracts built in the timed part too. Runs alternate between the paths, so a drift of the
machine affects them alike; the queue is emptied after each run.
"""

import time
from collections.abc import Callable

import dramatiq
from dramatiq.brokers.redis import RedisBroker

from devtools.bench.figures import Figure, ratio, summary
from devtools.bench.messages import (
    BENCH_ACTOR,
    BENCH_QUEUE,
    clear_queue,
    command,
    payload,
)
from devtools.bench.rig import Rig, plain_client
from shared_kernel import build_broker
from shared_kernel.messaging import send, send_many

BULK_BATCH_SIZE = 1000
WARMUP_SENDS = 50


def measure_sends(
    rig: Rig, *, repeat: int, count: int, bulk_count: int
) -> list[Figure]:
    """Return the send rates of plain Dramatiq, the kernel and its bulk send."""
    broker = build_broker(rig.settings)
    paths = {"plain": plain_sender(rig), "kernel": kernel_sender(broker)}
    client = rig.client()
    rates: dict[str, list[float]] = {name: [] for name in paths}
    for one in paths.values():
        _timed(client, _repeated(one, WARMUP_SENDS), WARMUP_SENDS)
    for _ in range(repeat):
        for name, one in paths.items():
            rates[name].append(_timed(client, _repeated(one, count), count))

    bulk = _measure_bulk(client, broker, repeat=repeat, count=bulk_count)
    broker.close()
    plain = summary("send.plain_dramatiq", rates["plain"], "msg/s")
    kernel = summary("send.kernel", rates["kernel"], "msg/s")
    return [
        plain,
        kernel,
        ratio("send.ratio_kernel_to_plain", kernel, plain, target=0.95),
        bulk,
        ratio("send.ratio_send_many_to_plain", bulk, plain, target=10.0),
    ]


def plain_sender(rig: Rig) -> Callable[[], dramatiq.Message]:
    """Return a function that sends one bench message with plain Dramatiq."""
    broker = RedisBroker(client=plain_client(rig.settings.redis))

    def record_log(entry: dict) -> None:
        """Never runs here: the bench only sends through this actor."""

    actor = dramatiq.actor(
        record_log, actor_name=BENCH_ACTOR, queue_name=BENCH_QUEUE, broker=broker
    )
    return lambda: actor.send(payload(time.time()))


def kernel_sender(broker: dramatiq.Broker) -> Callable[[], list[dramatiq.Message]]:
    """Return a function that sends one bench contract through the kernel."""
    return lambda: _kernel_send(broker)


def _kernel_send(broker: dramatiq.Broker) -> list[dramatiq.Message]:
    return send(command(time.time()), broker=broker)


def _measure_bulk(client, broker, *, repeat: int, count: int) -> Figure:
    def run():
        contracts = [command(time.time()) for _ in range(count)]
        send_many(contracts, batch_size=BULK_BATCH_SIZE, broker=broker)

    rates = [_timed(client, run, count) for _ in range(repeat)]
    return summary("send.kernel_send_many", rates, "msg/s")


def _repeated(one: Callable[[], object], count: int) -> Callable[[], None]:
    def run():
        for _ in range(count):
            one()

    return run


def _timed(client, run: Callable[[], object], count: int) -> float:
    clear_queue(client)
    started = time.perf_counter()
    run()
    elapsed = time.perf_counter() - started
    clear_queue(client)
    return count / elapsed
