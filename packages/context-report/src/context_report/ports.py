"""The ports that the report service needs: drawing charts and storing files.

The service depends on these protocols only, so it is tested with any fake;
:class:`~context_report.charts.MatplotlibCharts` and
:class:`~context_report.store.ReportFiles` are the adapters used in production.
"""

from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Protocol

from shared_kernel.contracts import ColumnProfile


class ChartPort(Protocol):
    """Draws the charts of a report, each as the bytes of a PNG image."""

    def nulls_per_column(
        self, columns: Sequence[ColumnProfile], *, rows: int, title: str
    ) -> bytes:
        """Draw one bar per column: how many of its ``rows`` values are null."""
        ...

    def histogram(self, column: ColumnProfile) -> bytes:
        """Draw the histogram bins of a numeric column."""
        ...

    def top_values(self, column: ColumnProfile) -> bytes:
        """Draw how often the most frequent values of a column occur."""
        ...


class ReportFilesPort(Protocol):
    """Stores the files of one report under its id."""

    def write(self, report_id: str, files: Mapping[str, bytes]) -> Path:
        """Replace the report ``report_id`` by ``files``, all or nothing.

        Returns:
            The folder that holds the files.

        Raises:
            ValueError: When ``report_id`` or a file name is not a plain name.
        """
        ...
