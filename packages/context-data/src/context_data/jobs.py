"""Actors of the data context: validate the contract, call the service.

The consumer's ``setup`` binds the adapters with :func:`bind` before the
worker starts; tests bind their own.
"""

from dataclasses import dataclass
from datetime import UTC, datetime

from shared_kernel import ImportDataset, Notify, contract_actor, send
from shared_kernel.middleware import current_idempotency_key
from shared_kernel.wiring import Slot, stable_id

from context_data import services
from context_data.ports import SourcePort, StorePort

IMPORT_TIME_LIMIT_MS = 30 * 60 * 1000


@dataclass(frozen=True, slots=True)
class Wiring:
    """What the actors need from the composition root."""

    sources: SourcePort
    store: StorePort


_wiring: Slot[Wiring] = Slot("data")


def bind(*, sources: SourcePort, store: StorePort) -> None:
    """Give the actors their source fetcher and dataset store."""
    _wiring.bind(Wiring(sources=sources, store=store))


@contract_actor(
    ImportDataset,
    max_retries=5,
    min_backoff=5_000,
    max_backoff=600_000,
    time_limit=IMPORT_TIME_LIMIT_MS,
)
def import_dataset(command: ImportDataset) -> None:
    """Import a dataset, then announce it to the report context."""
    wiring = _wiring.get()
    event = services.import_dataset(
        command,
        dataset_id=stable_id("ds", current_idempotency_key()),
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
