"""Which charts a report shows, and under which file names.

The choice is domain logic: a histogram for a numeric column that has bins, a
top-values chart for any other column that has top values, and one chart of
nulls per column. Drawing is left to a :class:`ChartPort`.
"""

import re

from shared_kernel.contracts import ColumnProfile, DatasetProfile

from context_report.ports import ChartPort
from context_report.rendering import Chart

NUMERIC_TYPES = frozenset({"integer", "float"})
MAX_COLUMN_CHARTS = 20
MAX_NULL_BARS = 40
MAX_SLUG_CHARS = 40


def draw_charts(profile: DatasetProfile, charts: ChartPort) -> tuple[Chart, ...]:
    """Draw the charts of a report, in the order the report shows them.

    A dataset without rows has nothing to chart. At most
    ``MAX_COLUMN_CHARTS`` columns get a chart of their own, so that the HTML
    page with its embedded charts stays small enough to attach to an email.
    """
    if profile.rows == 0:
        return ()
    drawn = [_nulls_chart(profile, charts)] if _has_nulls(profile) else []
    for position, column in _chartable(profile)[:MAX_COLUMN_CHARTS]:
        drawn.append(_column_chart(position, column, charts))
    return tuple(drawn)


def uncharted_columns(profile: DatasetProfile) -> int:
    """Return how many columns go without a chart because of the limit."""
    if profile.rows == 0:
        return 0
    return max(0, len(_chartable(profile)) - MAX_COLUMN_CHARTS)


def _chartable(profile: DatasetProfile) -> list[tuple[int, ColumnProfile]]:
    return [
        (position, column)
        for position, column in enumerate(profile.columns, start=1)
        if _kind(column) is not None
    ]


def _has_nulls(profile: DatasetProfile) -> bool:
    return any(column.nulls for column in profile.columns)


def _nulls_chart(profile: DatasetProfile, charts: ChartPort) -> Chart:
    columns = profile.columns
    title = "Nulls per column"
    if len(columns) > MAX_NULL_BARS:
        columns = sorted(columns, key=lambda c: c.nulls, reverse=True)[:MAX_NULL_BARS]
        title += f" ({MAX_NULL_BARS} of {len(profile.columns)}, the most nulls first)"
    png = charts.nulls_per_column(columns, rows=profile.rows, title=title)
    return Chart(filename="chart-00-nulls.png", caption=title, png=png)


def _kind(column: ColumnProfile) -> str | None:
    if column.type in NUMERIC_TYPES:
        return "histogram" if column.histogram else None
    return "top-values" if column.top_values else None


def _column_chart(position: int, column: ColumnProfile, charts: ChartPort) -> Chart:
    kind = _kind(column)
    if kind == "histogram":
        png = charts.histogram(column)
        caption = f"Distribution of {column.name}"
    else:
        png = charts.top_values(column)
        caption = f"Most frequent values of {column.name}"
    filename = f"chart-{position:02d}-{kind}-{_slug(column.name)}.png"
    return Chart(filename=filename, caption=caption, png=png)


def _slug(name: str) -> str:
    """Return a file-name-safe form of a column name; positions keep it unique."""
    slug = re.sub(r"[^a-z0-9]+", "-", name.lower()).strip("-")
    return slug[:MAX_SLUG_CHARS].rstrip("-") or "column"
