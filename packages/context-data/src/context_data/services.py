"""The use cases of the data context, written against ports only.

Nothing here knows of Dramatiq, Redis, DuckDB or HTTP: an actor hands in a
validated command and the adapters, and publishes the event it gets back.
"""

import time
from collections.abc import Callable
from datetime import datetime

from loguru import logger
from shared_kernel.contracts import DatasetImported, ImportDataset

from context_data.config import BYTES_PER_MB
from context_data.locations import default_name, redacted
from context_data.ports import SourcePort, StorePort


def import_dataset(
    command: ImportDataset,
    *,
    dataset_id: str,
    sources: SourcePort,
    store: StorePort,
    now: Callable[[], datetime],
) -> DatasetImported:
    """Fetch the command's source, store it as ``dataset_id`` and profile it.

    Importing the same ``dataset_id`` again replaces the dataset whole. The
    dataset is named after the source file's stem unless the command names it.

    Raises:
        PermanentError: When the source can never be imported as it is.
        TransientError: When fetching failed in a way that may pass.
        ValueError: When ``dataset_id`` could not be a file name.
    """
    log = logger.bind(context="data", dataset_id=dataset_id)
    source = redacted(command.source)
    started = time.perf_counter()
    log.info("Import {}: started from {}", dataset_id, source)

    # The adapters' progress lines carry the dataset id too.
    fetched = sources.fetch(command.source)
    with logger.contextualize(dataset_id=dataset_id), fetched as csv:
        size_bytes, encoding = csv.size_bytes, csv.encoding
        log.debug("Import {}: fetched {} bytes in {}", dataset_id, size_bytes, encoding)
        profile = store.load(dataset_id, csv)

    elapsed_s = time.perf_counter() - started
    log.info(
        "Import {}: {} rows loaded, {} rejected, {} columns, {:.1f} MB, "
        "in {:.1f} s ({:,.0f} rows/s)",
        dataset_id,
        profile.rows,
        profile.rejected_rows,
        len(profile.columns),
        size_bytes / BYTES_PER_MB,
        elapsed_s,
        profile.rows / max(elapsed_s, 1e-6),
    )
    return DatasetImported(
        dataset_id=dataset_id,
        name=command.dataset_name or default_name(command.source),
        source=source,
        imported_at=now(),
        profile=profile,
        report_to=command.report_to,
    )
