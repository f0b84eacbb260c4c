"""The phases of a run, one after the other, and how much each measures.

Each phase starts the consumers it needs and stops them before the next
begins, so it measures an otherwise idle system. A phase that fails leaves one
``<prefix>.failed`` figure that says why, and the run goes on with the next.
"""

import time
from collections.abc import Callable
from dataclasses import dataclass

from devtools.bench.data_import import measure_import
from devtools.bench.drain import measure_drains
from devtools.bench.figures import AT_MOST, Figure, missing
from devtools.bench.idle import measure_idle
from devtools.bench.latency import measure_hops
from devtools.bench.messages import clear_queue
from devtools.bench.pipeline import measure_pipeline
from devtools.bench.progress import say
from devtools.bench.rig import BenchError, Rig
from devtools.bench.sending import measure_sends

IMPORT_TARGET_S = 15.0
IMPORT_TARGET_MB = 500.0


@dataclass(frozen=True, slots=True)
class Plan:
    """How much each phase measures."""

    repeat: int = 3
    sends: int = 5000
    bulk_sends: int = 10_000
    drain_warmup: int = 100
    drain_batch: int | None = None
    kernel_hops: int = 35
    plain_hops: int = 6
    pipeline_runs: int = 20
    spacing_s: tuple[float, float] = (1.0, 2.0)
    idle_warmup_s: float = 3.0
    # Three upkeep passes of the kernel's consumer, which come 3 s apart.
    idle_window_s: float = 9.0
    import_rows: int = 1_000_000
    import_columns: int = 10


QUICK = Plan(
    repeat=1,
    sends=100,
    bulk_sends=500,
    drain_warmup=20,
    drain_batch=50,
    kernel_hops=3,
    plain_hops=2,
    pipeline_runs=2,
    idle_warmup_s=1.0,
    idle_window_s=2.0,
    import_rows=2000,
)


@dataclass(frozen=True, slots=True)
class Phase:
    """One phase of the run: what it measures, and the prefix of its figures."""

    title: str
    prefix: str
    measure: Callable[[Rig, Plan, list[Figure]], list[Figure]]


def run_phases(rig: Rig, plan: Plan) -> tuple[list[Figure], list[str]]:
    """Run every phase; a phase that fails leaves one figure saying why."""
    figures: list[Figure] = []
    failed = []
    for number, phase in enumerate(PHASES, 1):
        say(f"{number}/{len(PHASES)} {phase.title}")
        started = time.monotonic()
        try:
            figures += phase.measure(rig, plan, figures)
        except BenchError as error:
            failed.append(phase.title)
            figures.append(_failure(rig, phase, error))
        say(f"    {phase.title}: {time.monotonic() - started:.1f} s")
    return figures, failed


def _failure(rig: Rig, phase: Phase, error: BenchError) -> Figure:
    say(f"error: the {phase.title} phase failed: {error}")
    # Its messages would reach the next phase's consumer and skew its figures.
    clear_queue(rig.client())
    reason = str(error).splitlines()[0]
    return missing(f"{phase.prefix}.failed", "", f"the phase failed: {reason}")


def _sends(rig: Rig, plan: Plan, earlier: list[Figure]) -> list[Figure]:
    return measure_sends(
        rig, repeat=plan.repeat, count=plan.sends, bulk_count=plan.bulk_sends
    )


def _drains(rig: Rig, plan: Plan, earlier: list[Figure]) -> list[Figure]:
    return measure_drains(
        rig, repeat=plan.repeat, warmup=plan.drain_warmup, batch=plan.drain_batch
    )


def _hops(rig: Rig, plan: Plan, earlier: list[Figure]) -> list[Figure]:
    return measure_hops(
        rig,
        kernel_samples=plan.kernel_hops,
        plain_samples=plan.plain_hops,
        spacing_s=plan.spacing_s,
    )


def _pipeline(rig: Rig, plan: Plan, earlier: list[Figure]) -> list[Figure]:
    hop_p50 = (f.value for f in earlier if f.name == "latency.kernel_hop_p50")
    return measure_pipeline(
        rig,
        samples=plan.pipeline_runs,
        spacing_s=plan.spacing_s,
        hop_p50_ms=next(hop_p50, None),
    )


def _idle(rig: Rig, plan: Plan, earlier: list[Figure]) -> list[Figure]:
    return measure_idle(rig, warmup_s=plan.idle_warmup_s, window_s=plan.idle_window_s)


def _data_import(rig: Rig, plan: Plan, earlier: list[Figure]) -> list[Figure]:
    columns = plan.import_columns
    try:
        result = measure_import(plan.import_rows, columns, rig.root / "import")
    except RuntimeError as error:
        raise BenchError(str(error)) from error
    size = f"{result['rows']} rows x {columns} columns"
    return [
        Figure("data_import.time", result["seconds"], "s", target=IMPORT_TARGET_S,
               compare=AT_MOST, note=size),
        Figure("data_import.peak_rss", result["peak_rss_mb"], "MB",
               target=IMPORT_TARGET_MB, compare=AT_MOST, note=size),
    ]


PHASES = (
    Phase("send rate", "send", _sends),
    Phase("drain rate of one consumer process", "drain", _drains),
    Phase("single-hop latency", "latency", _hops),
    Phase("three-context pipeline latency", "pipeline", _pipeline),
    Phase("idle Redis commands", "idle", _idle),
    Phase("data import", "data_import", _data_import),
)
