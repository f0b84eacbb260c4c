"""Render a dataset profile as a self-contained HTML page and a CSV summary.

The HTML page embeds its charts as ``data:`` URIs, so the one file can be
mailed and opened anywhere. Jinja2 escapes every value (column names and
values come from the imported data) and fails on any undefined name.
"""

import base64
import csv
import functools
import io
import json
from dataclasses import dataclass

import jinja2
from shared_kernel.contracts import ColumnProfile, DatasetImported, DatasetProfile

CSV_HEADER = (
    "column", "type", "nulls", "distinct", "min", "max", "mean", "top_values"
)
# Spreadsheets run a cell that starts with one of these as a formula.
FORMULA_PREFIXES = ("=", "+", "-", "@", "\t", "\r")
NO_VALUE = "—"


@dataclass(frozen=True, slots=True)
class Chart:
    """A drawn chart: its file name in the report folder, caption and PNG."""

    filename: str
    caption: str
    png: bytes

    @property
    def data_uri(self) -> str:
        """Return the PNG as a ``data:`` URI for an ``<img src>``."""
        return "data:image/png;base64," + base64.b64encode(self.png).decode("ascii")


def render_html(
    event: DatasetImported,
    *,
    report_id: str,
    title: str,
    charts: tuple[Chart, ...],
    notes: tuple[str, ...] = (),
) -> bytes:
    """Render the HTML report of ``event`` as UTF-8 bytes."""
    profile = event.profile
    page = _environment().get_template("report.html.j2").render(
        title=title,
        report_id=report_id,
        event=event,
        imported_at=event.imported_at.isoformat(sep=" ", timespec="seconds"),
        rows=f"{profile.rows:,}",
        rejected_rows=f"{profile.rejected_rows:,}",
        columns=[_column_row(c, rows=profile.rows) for c in profile.columns],
        charts=charts,
        notes=notes,
    )
    return page.encode("utf-8")


def render_csv(profile: DatasetProfile) -> bytes:
    """Render one CSV row per column of ``profile``, as UTF-8 bytes.

    Numbers are written as plain numbers; ``top_values`` is a JSON object
    that maps each value to its count, most frequent first.
    """
    buffer = io.StringIO(newline="")
    writer = csv.writer(buffer, lineterminator="\r\n")
    writer.writerow(CSV_HEADER)
    writer.writerows(_csv_row(column) for column in profile.columns)
    return buffer.getvalue().encode("utf-8")


@functools.cache
def _environment() -> jinja2.Environment:
    return jinja2.Environment(
        loader=jinja2.PackageLoader("context_report", "templates"),
        autoescape=True,
        undefined=jinja2.StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
    )


def _column_row(column: ColumnProfile, *, rows: int) -> dict[str, object]:
    share = f" ({100 * column.nulls / rows:.1f}%)" if rows else ""
    return {
        "name": column.name,
        "type": column.type,
        "nulls": f"{column.nulls:,}{share}",
        "distinct": f"{column.distinct:,}",
        "min": _display(column.min),
        "max": _display(column.max),
        "mean": _display(column.mean),
        "top_values": [
            (v.value or "(empty)", f"{v.count:,}") for v in column.top_values
        ],
    }


def _display(value: float | str | None) -> str:
    if value is None:
        return NO_VALUE
    if isinstance(value, str):
        return value
    if value.is_integer() and abs(value) < 1e15:
        return f"{int(value):,}"
    return f"{value:,.6g}"


def _csv_row(column: ColumnProfile) -> tuple[object, ...]:
    top = {v.value: v.count for v in column.top_values}
    return (
        _cell_text(column.name),
        column.type,
        column.nulls,
        column.distinct,
        _csv_value(column.min),
        _csv_value(column.max),
        _csv_value(column.mean),
        json.dumps(top, ensure_ascii=False) if top else "",
    )


def _csv_value(value: float | str | None) -> object:
    if isinstance(value, str):
        return _cell_text(value)
    if value is None:
        return ""
    return int(value) if value.is_integer() and abs(value) < 1e15 else value


def _cell_text(text: str) -> str:
    """Quote ``text`` so that a spreadsheet shows it instead of running it."""
    return "'" + text if text.startswith(FORMULA_PREFIXES) else text
