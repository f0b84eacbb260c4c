"""Profiling a loaded dataset in SQL: what each column of ``rows`` holds.

Every statistic is computed by DuckDB over the stored table, so memory stays
bounded whatever the size of the dataset: one scan for the counts, minimums,
maximums and means of all columns, then one query per column for its distinct
values and one per histogram or list of top values. Distinct values are
counted a column at a time because each count holds a hash table of its
column's values: forty of them at once outgrow DuckDB's memory limit on a
wide file of a million rows, while one alone spills to disk.
"""

from typing import Any

import duckdb
from shared_kernel.contracts import (
    ColumnProfile,
    ColumnType,
    DatasetProfile,
    HistogramBin,
    ValueCount,
)

HISTOGRAM_BINS = 10
TOP_VALUES = 5
NUMERIC = ("integer", "float")

_INTEGER_TYPES = ("TINYINT", "SMALLINT", "INTEGER", "BIGINT", "HUGEINT")
_FLOAT_TYPES = ("FLOAT", "DOUBLE", "REAL", "DECIMAL")


def column_type(duckdb_type: str) -> ColumnType:
    """Map a DuckDB type name (``BIGINT``, ``DECIMAL(9,2)``...) to a contract type."""
    name = duckdb_type.upper()
    if name.removeprefix("U") in _INTEGER_TYPES:
        return "integer"
    if name.split("(")[0] in _FLOAT_TYPES:
        return "float"
    if name == "BOOLEAN":
        return "boolean"
    if name == "DATE":
        return "date"
    if name.startswith("TIMESTAMP"):
        return "timestamp"
    return "text"


def profile_table(con: duckdb.DuckDBPyConnection) -> DatasetProfile:
    """Profile the ``rows`` table, counting the ``rejects`` table's rows aside."""
    described = con.execute('DESCRIBE "rows"').fetchall()
    columns = [(name, column_type(duckdb_type)) for name, duckdb_type, *_ in described]
    rows, stats = _column_stats(con, columns)
    profiles = tuple(
        _column_profile(con, name, kind, rows, stats[i])
        for i, (name, kind) in enumerate(columns)
    )
    (rejected,) = con.execute('SELECT count(*) FROM "rejects"').fetchone()
    return DatasetProfile(rows=rows, rejected_rows=rejected, columns=profiles)


def quoted(name: str) -> str:
    """Return ``name`` as a DuckDB identifier, whatever characters it holds."""
    return '"' + name.replace('"', '""') + '"'


def _column_stats(
    con: duckdb.DuckDBPyConnection, columns: list[tuple[str, ColumnType]]
) -> tuple[int, list[tuple[Any, ...]]]:
    selects = ["count(*)"]
    for name, kind in columns:
        selects += _stat_expressions(quoted(name), kind)
    row = con.execute(f'SELECT {", ".join(selects)} FROM "rows"').fetchone()
    stats = [
        (row[1 + 4 * i], _distinct(con, name), *row[2 + 4 * i : 5 + 4 * i])
        for i, (name, _) in enumerate(columns)
    ]
    return row[0], stats


def _stat_expressions(column: str, kind: ColumnType) -> list[str]:
    """Return the SQL of: non-null count, min, max and mean."""
    if kind in NUMERIC:
        # Infinities and NaN would make the range, and so the bins, useless.
        value = f"{column}::DOUBLE"
        finite = f"FILTER (WHERE isfinite({value}))"
        fns = ("min", "max", "avg")
        return [f"count({column})", *(f"{fn}({value}) {finite}" for fn in fns)]
    if kind in ("date", "timestamp"):
        return [f"count({column})", f"min({column})", f"max({column})", "NULL"]
    return [f"count({column})", "NULL", "NULL", "NULL"]


def _distinct(con: duckdb.DuckDBPyConnection, name: str) -> int:
    column = quoted(name)
    (count,) = con.execute(f'SELECT count(DISTINCT {column}) FROM "rows"').fetchone()
    return count


def _column_profile(
    con: duckdb.DuckDBPyConnection,
    name: str,
    kind: ColumnType,
    rows: int,
    stats: tuple[Any, ...],
) -> ColumnProfile:
    non_null, distinct, low, high, mean = stats
    if kind in ("date", "timestamp"):
        low, high = (None if v is None else v.isoformat() for v in (low, high))
    return ColumnProfile(
        name=name,
        type=kind,
        nulls=rows - non_null,
        distinct=distinct,
        min=low,
        max=high,
        mean=mean,
        top_values=_top_values(con, name) if kind == "text" else (),
        histogram=_histogram(con, name, low, high) if kind in NUMERIC else (),
    )


def _top_values(con: duckdb.DuckDBPyConnection, name: str) -> tuple[ValueCount, ...]:
    column = quoted(name)
    found = con.execute(
        # Positions, not aliases: a column may itself be named "value" or "n".
        f'SELECT {column}::VARCHAR, count(*) FROM "rows" '
        f"WHERE {column} IS NOT NULL GROUP BY 1 ORDER BY 2 DESC, 1 "
        f"LIMIT {TOP_VALUES}"
    ).fetchall()
    return tuple(ValueCount(value=value, count=n) for value, n in found)


def _histogram(
    con: duckdb.DuckDBPyConnection, name: str, low: float | None, high: float | None
) -> tuple[HistogramBin, ...]:
    if low is None or high is None:
        return ()
    value = f"{quoted(name)}::DOUBLE"
    if low == high:
        (count,) = con.execute(
            f'SELECT count(*) FROM "rows" WHERE {value} = ?', [low]
        ).fetchone()
        return (HistogramBin(low=low, high=high, count=count),)
    width = (high - low) / HISTOGRAM_BINS
    # The maximum itself lands in the last bin, which is closed on both ends.
    counts = dict(
        con.execute(
            f"SELECT least(floor(({value} - ?) / ?)::BIGINT, {HISTOGRAM_BINS - 1}), "
            f'count(*) FROM "rows" WHERE isfinite({value}) GROUP BY 1',
            [low, width],
        ).fetchall()
    )
    edges = [low + width * i for i in range(HISTOGRAM_BINS)] + [high]
    return tuple(
        HistogramBin(low=edges[i], high=edges[i + 1], count=counts.get(i, 0))
        for i in range(HISTOGRAM_BINS)
    )
