"""Progress lines while DuckDB loads and profiles a dataset, from a watching thread.

DuckDB runs a statement to its end without calling back, so a thread asks the
connection every ``every_s`` how far the running statement has come and logs
it. While DuckDB reads the whole file to choose the column types, and once the
scan is over, it reports no percentage; the line then says what it is doing.
"""

import contextvars
import threading
import time
from pathlib import Path
from types import TracebackType

import duckdb
from loguru import logger

from context_data.config import BYTES_PER_MB
from context_data.ports import LocalCsv

MIN_POLL_S = 0.02
SAMPLE_BYTES = 64 * 1024


class LoadProgress:
    """Logs how far the load of ``csv`` on ``con`` has come, every ``every_s``.

    Use it as a context around the statements to watch; call :meth:`profiling`
    once the rows are stored and the profile is being computed.
    """

    def __init__(
        self, con: duckdb.DuckDBPyConnection, csv: LocalCsv, *, every_s: float
    ):
        self._con = con
        self._source = csv.source
        self._size_bytes = csv.path.stat().st_size
        self._bytes_per_row = _bytes_per_row(csv.path)
        self._every_s = max(every_s, MIN_POLL_S)
        self._phase = "Loading"
        self._scanning = False
        self._stop = threading.Event()
        self._started = time.monotonic()
        self._log = logger.bind(context="data")
        # The thread runs in a copy of this context, so that its lines carry
        # what the caller's logger.contextualize() added (the dataset id).
        run = contextvars.copy_context().run
        self._thread = threading.Thread(
            target=run, args=(self._watch,), name="load-progress", daemon=True
        )

    def profiling(self) -> None:
        """Say from now on that the stored rows are being profiled."""
        self._phase = "Profiling"

    def __enter__(self) -> "LoadProgress":
        # DuckDB tracks the progress of a statement only while its progress
        # bar is on; it is kept from printing on stdout, and from waiting
        # two seconds before it starts tracking.
        self._con.execute("SET enable_progress_bar = true")
        self._con.execute("SET enable_progress_bar_print = false")
        self._con.execute("SET progress_bar_time = 0")
        self._thread.start()
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        self._stop.set()
        self._thread.join()

    def _watch(self) -> None:
        while not self._stop.wait(self._every_s):
            elapsed_s = time.monotonic() - self._started
            what = f"{self._phase} {self._source}"
            self._log.info("{}: {}, {:.0f} s", what, self._status(), elapsed_s)

    def _status(self) -> str:
        if self._phase == "Profiling":
            return "computing statistics of the stored rows"
        percent = self._con.query_progress()
        # Before the scan, DuckDB reports 0 while it sniffs a sample and -1
        # while it reads the whole file for the types; after it, -1 again.
        if percent <= 0 and self._scanning:
            return "storing the rows and setting aside the rejected ones"
        if percent <= 0:
            return "choosing column types from the whole file"
        self._scanning = True
        read_bytes = self._size_bytes * percent / 100
        read = f"{percent:.0f}% of {self._size_bytes / BYTES_PER_MB:.1f} MB read"
        if self._bytes_per_row is None:
            return read
        return f"{read}, about {read_bytes / self._bytes_per_row:,.0f} rows"


def _bytes_per_row(path: Path) -> float | None:
    """Return the average length of the first lines of ``path``, for estimates."""
    with path.open("rb") as file:
        sample = file.read(SAMPLE_BYTES)
    lines = sample.count(b"\n")
    return len(sample) / lines if lines > 1 else None
