"""Actors of the report context: validate the contract, call the service.

The consumer's ``setup`` binds the adapters with :func:`bind` before the
worker starts; tests bind their own.
"""

import hashlib
from dataclasses import dataclass

from shared_kernel import DatasetImported, contract_actor, send
from shared_kernel.middleware import current_idempotency_key

from context_report import services
from context_report.ports import ChartPort, ReportFilesPort

REPORT_TIME_LIMIT_MS = 5 * 60 * 1000


@dataclass(frozen=True, slots=True)
class Wiring:
    """What the actors need from the composition root."""

    files: ReportFilesPort
    charts: ChartPort


_wiring: Wiring | None = None


def bind(*, files: ReportFilesPort, charts: ChartPort) -> None:
    """Give the actors their report store and chart drawer."""
    global _wiring
    _wiring = Wiring(files=files, charts=charts)


def report_id_for(idempotency_key: str) -> str:
    """Return the report id for a request: the same for every copy of it."""
    return "rp-" + hashlib.sha256(idempotency_key.encode()).hexdigest()[:20]


def _wired() -> Wiring:
    if _wiring is None:
        raise RuntimeError(
            "context_report.jobs.bind() was not called: start the consumer "
            "with report-consume, or bind adapters in the test"
        )
    return _wiring


@contract_actor(
    DatasetImported,
    max_retries=5,
    min_backoff=2_000,
    max_backoff=300_000,
    time_limit=REPORT_TIME_LIMIT_MS,
)
def build_report(event: DatasetImported) -> None:
    """Build the report of an imported dataset, then announce it."""
    wiring = _wired()
    ready = services.build_report(
        event,
        report_id=report_id_for(current_idempotency_key()),
        files=wiring.files,
        charts=wiring.charts,
    )
    send(ready)
