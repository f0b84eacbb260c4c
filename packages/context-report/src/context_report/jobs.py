"""Actors of the report context: validate the contract, call the service.

The consumer's ``setup`` binds the adapters with :func:`bind` before the
worker starts; tests bind their own.
"""

from dataclasses import dataclass

from shared_kernel import DatasetImported, contract_actor, send
from shared_kernel.middleware import current_idempotency_key
from shared_kernel.wiring import Slot, stable_id

from context_report import services
from context_report.ports import ChartPort, ReportFilesPort

REPORT_TIME_LIMIT_MS = 5 * 60 * 1000


@dataclass(frozen=True, slots=True)
class Wiring:
    """What the actors need from the composition root."""

    files: ReportFilesPort
    charts: ChartPort


_wiring: Slot[Wiring] = Slot("report")


def bind(*, files: ReportFilesPort, charts: ChartPort) -> None:
    """Give the actors their report store and chart drawer."""
    _wiring.bind(Wiring(files=files, charts=charts))


@contract_actor(
    DatasetImported,
    max_retries=5,
    min_backoff=2_000,
    max_backoff=300_000,
    time_limit=REPORT_TIME_LIMIT_MS,
)
def build_report(event: DatasetImported) -> None:
    """Build the report of an imported dataset, then announce it."""
    wiring = _wiring.get()
    ready = services.build_report(
        event,
        report_id=stable_id("rp", current_idempotency_key()),
        files=wiring.files,
        charts=wiring.charts,
    )
    send(ready)
