"""Single-hop latency: one message at a time to an idle consumer process.

The bench sends one bench message, waits until the worker (started with
``--record``) has pushed when it received it, then stays idle for a random
spacing before the next, as a quiet production system does: a consumer
that found nothing for a while polls less often. The message carries its send
time, so the latency is the receive time minus the send time, both read on
this machine's clock.
"""

import json
import random
import time
from collections.abc import Callable

import dramatiq
import redis

from devtools.bench.figures import Figure, percentiles
from devtools.bench.messages import forget
from devtools.bench.processes import bench_worker
from devtools.bench.rig import BenchError, Rig
from devtools.bench.sending import kernel_sender, plain_sender
from shared_kernel import build_broker

RESULTS_KEY = "bench:latency:received"
REPLY_TIMEOUT_S = 30
KERNEL_P50_TARGET_MS = 3.0


def measure_hops(
    rig: Rig,
    *,
    kernel_samples: int,
    plain_samples: int,
    spacing_s: tuple[float, float],
) -> list[Figure]:
    """Return the p50/p95/p99 single-hop latency of the kernel and of plain."""
    broker = build_broker(rig.settings)
    try:
        kernel = _hop_latencies(
            rig, "kernel", kernel_sender(broker), kernel_samples, spacing_s
        )
    finally:
        broker.close()
    plain = _hop_latencies(rig, "plain", plain_sender(rig), plain_samples, spacing_s)
    idle = f"{spacing_s[0]:g}-{spacing_s[1]:g} s"
    note = {50: f"from send to handler, one message at a time, {idle} idle before each"}
    return [
        *percentiles(
            "latency.kernel_hop",
            kernel,
            "ms",
            targets={50: KERNEL_P50_TARGET_MS},
            notes=note,
        ),
        *percentiles("latency.plain_hop", plain, "ms", notes=note),
    ]


def _hop_latencies(
    rig: Rig,
    kind: str,
    send: Callable[[], object],
    samples: int,
    spacing_s: tuple[float, float],
) -> list[float]:
    client = rig.client()
    client.delete(RESULTS_KEY)
    sent: list[dramatiq.Message] = []
    latencies = []
    args = [kind, "--record", RESULTS_KEY]
    with bench_worker(rig, f"latency-{kind}", args):
        _one_hop(client, send, sent)  # the first delivery also warms the worker up
        for _ in range(samples):
            time.sleep(random.uniform(*spacing_s))
            latencies.append(_one_hop(client, send, sent))
    forget(client, sent)
    return latencies


def _one_hop(
    client: redis.Redis, send: Callable[[], object], sent: list[dramatiq.Message]
) -> float:
    result = send()
    sent.extend(result if isinstance(result, list) else [result])
    reply = client.blpop([RESULTS_KEY], timeout=REPLY_TIMEOUT_S)
    if reply is None:
        raise BenchError(
            f"a bench message was not received within {REPLY_TIMEOUT_S} s; see the "
            "worker's output in the bench's console folder"
        )
    entry = json.loads(reply[1])
    return (entry["received"] - entry["sent"]) * 1000
