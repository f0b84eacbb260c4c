"""Drain rate: how fast one consumer process empties a prefilled queue.

For each case a worker process starts (``devtools.bench.worker``) and stays
up for all its runs. A run stores a batch on the bench queue at once and
times it from the moment the worker took the first id off the waiting list to
the moment the hash of unacknowledged messages is empty: acknowledged
messages leave that hash. A first, small batch warms the worker up and sizes
the measured batches to about ``TARGET_DRAIN_S`` each.
"""

import time
from collections.abc import Callable
from dataclasses import dataclass

import redis

from devtools.bench.figures import AT_LEAST, Figure, ratio, summary
from devtools.bench.messages import forget, messages_key, prefill, queue_key
from devtools.bench.processes import bench_worker, check_alive
from devtools.bench.rig import BenchError, Rig

POLL_S = 0.001
TARGET_DRAIN_S = 1.5
MIN_BATCH, MAX_BATCH = 200, 10_000
DRAIN_TIMEOUT_S = 120.0
BEST_PREFETCH = 200


@dataclass(frozen=True, slots=True)
class DrainCase:
    """One consumer set-up to drain with."""

    name: str
    kind: str
    threads: int
    prefetch: int = 0

    def worker_args(self) -> list[str]:
        """Return the command-line arguments of its bench worker."""
        args = [self.kind, "--threads", str(self.threads)]
        return args + (["--prefetch", str(self.prefetch)] if self.prefetch else [])


CASES = (
    DrainCase("drain.plain_1t_default_prefetch", "plain", 1),
    DrainCase("drain.plain_8t_default_prefetch", "plain", 8),
    DrainCase(f"drain.plain_8t_prefetch_{BEST_PREFETCH}", "plain", 8, BEST_PREFETCH),
    DrainCase("drain.kernel_1t", "kernel", 1),
    DrainCase("drain.kernel_8t", "kernel", 8),
)


def measure_drains(
    rig: Rig, *, repeat: int, warmup: int, batch: int | None
) -> list[Figure]:
    """Return the drain rate of every case, and the kernel's ratios to plain.

    Args:
        repeat: Measured batches per case.
        warmup: Size of the first, unmeasured batch.
        batch: Size of the measured batches; sized from the warm-up if None.
    """
    figures = {}
    for case in CASES:
        rates = _drain_case(rig, case, repeat=repeat, warmup=warmup, batch=batch)
        figures[case.name] = summary(case.name, rates, "msg/s")
    kernel, plain, best = (
        figures["drain.kernel_8t"],
        figures["drain.plain_8t_default_prefetch"],
        figures[f"drain.plain_8t_prefetch_{BEST_PREFETCH}"],
    )
    return [
        *figures.values(),
        ratio("drain.ratio_kernel_8t_to_plain_8t_default", kernel, plain, target=2.0),
        ratio(
            f"drain.ratio_kernel_8t_to_plain_8t_prefetch_{BEST_PREFETCH}",
            kernel,
            best,
            target=1.0,
            compare=AT_LEAST,
        ),
    ]


def _drain_case(
    rig: Rig, case: DrainCase, *, repeat: int, warmup: int, batch: int | None
) -> list[float]:
    client = rig.client()
    label = case.name.removeprefix("drain.")
    console = rig.console(label)
    with bench_worker(rig, label, case.worker_args()) as process:

        def drain(count: int) -> float:
            alive = lambda: check_alive(process, console)  # noqa: E731
            return drain_once(client, count, alive=alive)

        first = drain(warmup)
        size = batch or min(max(int(first * TARGET_DRAIN_S), MIN_BATCH), MAX_BATCH)
        return [drain(size) for _ in range(repeat)]


def drain_once(client: redis.Redis, count: int, *, alive: Callable[[], None]) -> float:
    """Prefill ``count`` messages, wait until they are all done; return msg/s.

    Raises:
        BenchError: When a message failed, or the batch did not drain in time.
    """
    dead_before = client.zcard(f"{queue_key()}.XQ")
    messages = prefill(client, count)
    try:
        started = _wait_until(lambda: client.llen(queue_key()) < count, alive)
        finished = _wait_until(lambda: client.hlen(messages_key()) == 0, alive)
    finally:
        forget(client, messages)
    failed = client.zcard(f"{queue_key()}.XQ") - dead_before
    retried = client.hlen(f"{queue_key()}.DQ.msgs")
    if failed or retried:
        raise BenchError(
            f"{failed} bench message(s) dead-lettered and {retried} retried while "
            "draining; see the worker's output in the bench's console folder"
        )
    return count / (finished - started)


def _wait_until(condition: Callable[[], bool], alive: Callable[[], None]) -> float:
    deadline = time.perf_counter() + DRAIN_TIMEOUT_S
    polls = 0
    while not condition():
        now = time.perf_counter()
        if now > deadline:
            raise BenchError(f"a batch did not drain within {DRAIN_TIMEOUT_S:g} s")
        polls += 1
        if polls % 500 == 0:
            alive()
        time.sleep(POLL_S)
    return time.perf_counter()
