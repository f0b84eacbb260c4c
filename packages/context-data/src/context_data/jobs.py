"""Actors of the data context: validate the contract, call the service.

The consumer's ``setup`` binds the adapters with :func:`bind` before the
worker starts; tests bind their own.
"""

import hashlib
from dataclasses import dataclass
from datetime import UTC, datetime

from shared_kernel import ImportDataset, Notify, contract_actor, send
from shared_kernel.middleware import current_idempotency_key

from context_data import services
from context_data.ports import SourcePort, StorePort

IMPORT_TIME_LIMIT_MS = 30 * 60 * 1000


@dataclass(frozen=True, slots=True)
class Wiring:
    """What the actors need from the composition root."""

    sources: SourcePort
    store: StorePort


_wiring: Wiring | None = None


def bind(*, sources: SourcePort, store: StorePort) -> None:
    """Give the actors their source fetcher and dataset store."""
    global _wiring
    _wiring = Wiring(sources=sources, store=store)


def dataset_id_for(idempotency_key: str) -> str:
    """Return the dataset id of an import: the same for every copy of it."""
    return "ds-" + hashlib.sha256(idempotency_key.encode()).hexdigest()[:20]


def _wired() -> Wiring:
    if _wiring is None:
        raise RuntimeError(
            "context_data.jobs.bind() was not called: start the consumer with "
            "data-consume, or bind adapters in the test"
        )
    return _wiring


@contract_actor(
    ImportDataset,
    max_retries=5,
    min_backoff=5_000,
    max_backoff=600_000,
    time_limit=IMPORT_TIME_LIMIT_MS,
)
def import_dataset(command: ImportDataset) -> None:
    """Import a dataset, then announce it to the report context."""
    wiring = _wired()
    event = services.import_dataset(
        command,
        dataset_id=dataset_id_for(current_idempotency_key()),
        sources=wiring.sources,
        store=wiring.store,
        now=lambda: datetime.now(UTC),
    )

    send(event)
    profile = event.profile
    send(Notify(
        subject=f"Dataset {event.name} imported",
        text=f"{profile.rows} rows, {len(profile.columns)} columns, "
        f"{profile.rejected_rows} rejected",
        origin="data",
    ))
