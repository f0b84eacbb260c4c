"""The store adapter: one DuckDB file per dataset, replaced whole on re-import.

A DuckDB file takes one writer at a time and several consumer processes may
import at once, so each dataset gets its own file,
``<data_dir>/datasets/<dataset_id>.duckdb``. It is built under a temporary
name in the same directory and moved into place with :func:`os.replace`, so a
reader sees the old dataset or the new one, never half of one, and importing
the same ``dataset_id`` again replaces it: imports are idempotent.
"""

import os
import re
import uuid
from pathlib import Path

import duckdb
from shared_kernel.contracts import DatasetProfile
from shared_kernel.errors import PermanentError

from context_data.load_progress import LoadProgress
from context_data.loading import load_csv
from context_data.ports import LocalCsv
from context_data.profiling import profile_table
from context_data.progress import DEFAULT_EVERY_S

_DATASET_ID = re.compile(r"[A-Za-z0-9][A-Za-z0-9_.-]{0,127}")


class DuckDbStore:
    """Stores each dataset in its own DuckDB file, with tables ``rows`` and ``rejects``.

    ``rows`` holds the rows that matched the header; ``rejects`` holds the
    others, with their line number in the file, the reason and the raw line.
    DuckDB keeps to ``memory_limit_mb`` and spills to disk past it, so memory
    does not grow with the size of the file. A long load logs its progress
    every ``progress_every_s``.
    """

    def __init__(
        self,
        data_dir: Path,
        *,
        memory_limit_mb: int = 256,
        threads: int = 2,
        progress_every_s: float = DEFAULT_EVERY_S,
    ):
        self._datasets_dir = data_dir / "datasets"
        # Known limit: a load or profile that outgrows memory_limit_mb fails
        # with duckdb.OutOfMemoryException and is retried in vain; the consumer
        # keeps the default (fix: a DATA_MEMORY_LIMIT_MB setting, and a
        # PermanentError that names it).
        self._config = {"memory_limit": f"{memory_limit_mb}MB", "threads": threads}
        self._progress_every_s = progress_every_s

    def path_of(self, dataset_id: str) -> Path:
        """Return the file of dataset ``dataset_id`` (it may not exist yet).

        Raises:
            ValueError: When ``dataset_id`` could not be a file name.
        """
        if not _DATASET_ID.fullmatch(dataset_id):
            raise ValueError(
                f"dataset_id must be 1 to 128 letters, digits, '_', '.' or '-', "
                f"starting with a letter or digit, got {dataset_id!r}"
            )
        return self._datasets_dir / f"{dataset_id}.duckdb"

    def load(self, dataset_id: str, csv: LocalCsv) -> DatasetProfile:
        """Store ``csv`` as dataset ``dataset_id``, replacing any earlier import.

        Raises:
            PermanentError: When the file is not a CSV table with a header.
            ValueError: When ``dataset_id`` could not be a file name.
        """
        final = self.path_of(dataset_id)
        final.parent.mkdir(parents=True, exist_ok=True)
        # A leading dot keeps half-built files out of a listing of datasets.
        building = final.with_name(f".{dataset_id}.{uuid.uuid4().hex}.building")
        try:
            profile = self._build(building, csv)
            os.replace(building, final)
        finally:
            for leftover in (building, building.with_name(building.name + ".wal")):
                leftover.unlink(missing_ok=True)
        return profile

    def _build(self, path: Path, csv: LocalCsv) -> DatasetProfile:
        with duckdb.connect(path, config=self._config) as con:
            with LoadProgress(con, csv, every_s=self._progress_every_s) as progress:
                _load(con, csv)
                progress.profiling()
                return profile_table(con)


def _load(con: duckdb.DuckDBPyConnection, csv: LocalCsv) -> None:
    try:
        load_csv(con, csv)
    except (duckdb.InvalidInputException, duckdb.ConversionException) as error:
        raise PermanentError(
            f"{csv.source} could not be read as a CSV file ({_reason(error)}); "
            f"save it as CSV with a header row and one delimiter, then retry"
        ) from error


def _reason(error: duckdb.Error) -> str:
    # DuckDB's message runs on with the offending line and the reader's
    # options; keep what it says went wrong.
    lines = str(error).split("\n\n")[0].splitlines()
    skipped = ("Original Line:", "Possible Solution:")
    return " ".join(line for line in lines if not line.startswith(skipped))[:300]
