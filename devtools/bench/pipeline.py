"""Pipeline latency: import, report and email, through the three consumers.

The data, report and email consumers run through their entry points, as in
production. The bench sends the import of the bundled ``sample:orders``
dataset with a report to be emailed, waits for the mail at its SMTP sink, and
stays idle for a random spacing before the next. The trace of each run (one
hop per handled message, with the time its handler took) splits the latency
into the time in which a handler ran and the rest, transit: sending, waiting
in a queue, being fetched.
"""

import random
import time
from contextlib import ExitStack

import redis

from devtools.bench.figures import Figure, percentiles
from devtools.bench.processes import context_consumer
from devtools.bench.rig import BenchError, Rig
from shared_kernel import ImportDataset, build_broker
from shared_kernel.messaging import send
from shared_kernel.tracing import read_trace

SOURCE = "sample:orders"
RECIPIENT = "bench@example.com"
CHAIN = ("import_dataset", "build_report", "send_report_email")
CONTEXTS = ("data", "report", "email")
THREADS = 8
MAIL_TIMEOUT_S = 120.0
TRACE_TIMEOUT_S = 10.0


def measure_pipeline(
    rig: Rig, *, samples: int, spacing_s: tuple[float, float], hop_p50_ms: float | None
) -> list[Figure]:
    """Return the pipeline's latency, and its transit and handler parts.

    Args:
        hop_p50_ms: The kernel's single-hop p50; the target of the pipeline's
            p50 and of its transit's is three of them, one per hop.
    """
    broker = build_broker(rig.settings)
    client = rig.client()
    totals, handlers = [], []
    each: dict[str, list[float]] = {context: [] for context in CONTEXTS}
    with ExitStack() as stack:
        for context in CONTEXTS:
            stack.enter_context(context_consumer(rig, context, threads=THREADS))
        _one_run(rig, broker, client)  # the first run loads DuckDB and matplotlib
        for _ in range(samples):
            time.sleep(random.uniform(*spacing_s))
            total, in_handlers, took = _one_run(rig, broker, client)
            totals.append(total)
            handlers.append(in_handlers)
            for context, took_ms in zip(CONTEXTS, took):
                each[context].append(took_ms)
    broker.close()
    transits = [total - spent for total, spent in zip(totals, handlers)]
    figures = _figures(
        totals, transits, handlers, hop_p50_ms=hop_p50_ms, spacing_s=spacing_s
    )
    return figures + _handler_figures(each)


def _figures(
    totals: list[float],
    transits: list[float],
    handlers: list[float],
    *,
    hop_p50_ms: float | None,
    spacing_s: tuple[float, float],
) -> list[Figure]:
    target = None if hop_p50_ms is None else 3 * hop_p50_ms
    held = (
        "no target: the kernel's single-hop p50 is missing"
        if target is None
        else f"target 3 x the kernel's single-hop p50 ({hop_p50_ms:.2f} ms)"
    )
    idle = f"{spacing_s[0]:g}-{spacing_s[1]:g} s idle before each run"
    notes = {
        "send_to_mail": f"from sending {SOURCE}'s import to its mail at the SMTP "
        f"sink, {idle}; {held}",
        "transit": "send_to_mail minus the time in which any of the three "
        f"handlers ran: sending, waiting in queues, being fetched; {held}",
        "handlers": "time in which the import, report or email handler ran",
    }
    series = {"send_to_mail": totals, "transit": transits, "handlers": handlers}
    figures = []
    for part, samples in series.items():
        targets = {50: target} if part != "handlers" else None
        figures += percentiles(
            f"pipeline.{part}", samples, "ms", targets=targets, notes={50: notes[part]}
        )
    return figures


def _handler_figures(each: dict[str, list[float]]) -> list[Figure]:
    """Return the median time each context's handler took."""
    figures = []
    for context, actor in zip(CONTEXTS, CHAIN):
        figure = percentiles(
            f"pipeline.{context}_handler", each[context], "ms",
            notes={50: f"the time {actor} ran, in the {context} consumer"},
        )[0]
        figures.append(figure)
    return figures


def _one_run(
    rig: Rig, broker, client: redis.Redis
) -> tuple[float, float, list[float]]:
    """Run the pipeline once, in ms: its latency, the handlers' part, each's."""
    count = len(rig.mailbox.arrivals) + 1
    command = ImportDataset(
        source=SOURCE, dataset_name="bench orders", report_to=(RECIPIENT,)
    )
    sent_at = time.time()
    messages = send(command, broker=broker)
    arrived_at = rig.mailbox.wait_for(count, MAIL_TIMEOUT_S)
    if arrived_at is None:
        raise BenchError(
            f"the pipeline's mail did not arrive within {MAIL_TIMEOUT_S:g} s; see "
            f"the consumers' logs under {rig.root / 'logs'}"
        )
    import_hop, report_hop, email_hop = _chain(
        client, messages[0].options["correlation_id"]
    )
    # The email handler's hop is traced after the mail left: it ran until then.
    email_started, _ = _ran(email_hop)
    spans = [_ran(import_hop), _ran(report_hop), (email_started, arrived_at)]
    in_handlers = _covered(spans, start=sent_at, end=arrived_at)
    took = [(finish - begin) * 1000 for begin, finish in spans]
    return (arrived_at - sent_at) * 1000, in_handlers * 1000, took


def _ran(hop: dict) -> tuple[float, float]:
    """Return when the handler of a traced hop started and finished."""
    took_s = (hop["took_ms"] or 0.0) / 1000
    return hop["at"] - took_s, hop["at"]


def _covered(spans: list[tuple[float, float]], *, start: float, end: float) -> float:
    """Return how long at least one of ``spans`` ran between ``start`` and ``end``.

    A handler sends the next message before it returns, so the next handler
    can start while it finishes: summing their times would count that twice.
    """
    covered, reached = 0.0, start
    for begin, finish in sorted(spans):
        begin, finish = max(begin, reached), min(finish, end)
        if finish > begin:
            covered += finish - begin
            reached = finish
    return covered


def _chain(client: redis.Redis, correlation_id: str) -> list[dict]:
    """Return the hops of the pipeline's chain, in order, once all are traced.

    The email hop is traced after its mail left, so it may lag the mail.
    """
    deadline = time.monotonic() + TRACE_TIMEOUT_S
    while time.monotonic() < deadline:
        hops = {hop["actor"]: hop for hop in read_trace(client, correlation_id)}
        if all(actor in hops for actor in CHAIN):
            return [hops[actor] for actor in CHAIN]
        time.sleep(0.01)
    raise BenchError(f"the trace of {correlation_id} lacks a hop of {CHAIN}")
