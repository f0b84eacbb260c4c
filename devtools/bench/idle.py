"""Idle load: the Redis commands a consumer issues when it has nothing to do.

The email consumer (the kernel's, through its entry point, on its real
queues) and then a plain Dramatiq worker on the same queues with as many
threads each run alone against Redis. After a warm-up, a ``MONITOR``
connection counts what reaches the server in a fixed window: commands sent
by the clients, and, apart, the commands that Lua scripts run, which
``MONITOR`` shows as coming from ``lua``.
"""

import time
from collections import Counter

from devtools.bench.figures import AT_MOST, Figure
from devtools.bench.processes import bench_worker, context_consumer
from devtools.bench.progress import say
from devtools.bench.rig import Rig
from shared_kernel.queues import queues_for

CONTEXT = "email"
THREADS = 8
POLL_S = 0.2


def measure_idle(rig: Rig, *, warmup_s: float, window_s: float) -> list[Figure]:
    """Return the commands per second of an idle kernel and plain consumer."""
    with context_consumer(rig, CONTEXT, threads=THREADS):
        time.sleep(warmup_s)
        kernel = count_commands(rig, window_s)
    queue_args = [arg for queue in queues_for(CONTEXT) for arg in ("--queue", queue)]
    args = ["plain", "--threads", str(THREADS), *queue_args]
    with bench_worker(rig, "idle-plain", args):
        time.sleep(warmup_s)
        plain = count_commands(rig, window_s)

    _log_busiest("kernel", kernel, window_s)
    _log_busiest("plain", plain, window_s)
    return _figures(kernel, plain, window_s)


def _figures(
    kernel: Counter[tuple[str, str]], plain: Counter[tuple[str, str]], window_s: float
) -> list[Figure]:
    note = (
        f"counted with MONITOR over {window_s:g} s; target: plain Dramatiq's "
        "worker on the same queues"
    )
    figures = []
    for source in ("client", "script"):
        plain_rate = _total(plain, source) / window_s
        kernel_rate = _total(kernel, source) / window_s
        figures += [
            Figure(f"idle.plain_{source}_commands", plain_rate, "cmd/s"),
            Figure(
                f"idle.kernel_{source}_commands",
                kernel_rate,
                "cmd/s",
                target=plain_rate,
                compare=AT_MOST,
                note=note,
            ),
        ]
    return figures


def count_commands(rig: Rig, window_s: float) -> Counter[tuple[str, str]]:
    """Count the commands Redis runs for ``window_s``, by source and name."""
    counts: Counter[tuple[str, str]] = Counter()
    with rig.client().monitor() as monitor:
        deadline = time.monotonic() + window_s
        while (left_s := deadline - time.monotonic()) > 0:
            if monitor.connection.can_read(timeout=min(left_s, POLL_S)):
                entry = monitor.next_command()
                source = "script" if entry["client_type"] == "lua" else "client"
                name = entry["command"].split(" ", 1)[0].upper()
                counts[source, name] += 1
    return counts


def _total(counts: Counter[tuple[str, str]], source: str) -> int:
    return sum(n for (where, _), n in counts.items() if where == source)


def _log_busiest(kind: str, counts: Counter[tuple[str, str]], window_s: float) -> None:
    busiest = ", ".join(
        f"{source} {name} {n / window_s:.1f}/s"
        for (source, name), n in counts.most_common(8)
    )
    say(f"    idle {kind} consumer: {busiest or 'no commands'}")
