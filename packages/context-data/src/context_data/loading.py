"""Loading a UTF-8 CSV file into DuckDB: the ``rows`` and ``rejects`` tables.

DuckDB's sniffer finds the delimiter (comma, semicolon, tab or pipe), the
quoting and the column types; the header row is required. Rows that do not
fit the header, or whose values do not fit their column's type, are kept aside
in ``rejects`` with their line number and the reason, and the rest loads.
"""

from typing import Any

import duckdb
from shared_kernel.errors import PermanentError

from context_data.ports import LocalCsv
from context_data.profiling import column_type

# Types are chosen from the whole file rather than a sample, so that a text
# value on line 50 000 makes its column text instead of getting its row
# rejected. It costs one more read of the file.
_READ_OPTIONS = "header = true, store_rejects = true, sample_size = -1"


def load_csv(con: duckdb.DuckDBPyConnection, csv: LocalCsv) -> None:
    """Create the tables ``rows`` and ``rejects`` from ``csv``.

    Raises:
        PermanentError: When no delimiter separates the header into columns.
        duckdb.InvalidInputException: When DuckDB cannot parse the file.
    """
    path = str(csv.path)
    delimiter, decimal_separator = _sniff(con, path, source=csv.source)
    con.execute(
        f'CREATE TABLE "rows" AS SELECT * FROM read_csv(?, {_READ_OPTIONS}, '
        f"delim = ?, decimal_separator = ?)",
        [path, delimiter, decimal_separator],
    )
    con.execute(
        'CREATE TABLE "rejects" AS SELECT line, '
        "string_agg(lower(error_type) || ': ' || error_message, '; ') AS reason, "
        "any_value(csv_line) AS raw_line "
        "FROM reject_errors GROUP BY line ORDER BY line"
    )


def _sniff(
    con: duckdb.DuckDBPyConnection, path: str, *, source: str
) -> tuple[str, str]:
    delimiter, columns = _sniffed(con, path, decimal_separator=".")
    if len(columns) < 2:
        raise PermanentError(
            f"{source} has no comma, semicolon, tab or pipe between the names in "
            f"its first line {_preview(columns)}; give a CSV file with a header "
            f"row of at least two columns"
        )
    if delimiter != ";":
        return delimiter, "."
    # Files separated by semicolons often write decimals with a comma (3,5):
    # read them so when it makes more columns numeric.
    _, comma_columns = _sniffed(con, path, decimal_separator=",")
    if _numeric_count(comma_columns) > _numeric_count(columns):
        return delimiter, ","
    return delimiter, "."


def _sniffed(
    con: duckdb.DuckDBPyConnection, path: str, *, decimal_separator: str
) -> tuple[str, list[dict[str, Any]]]:
    delimiter, columns = con.execute(
        "SELECT Delimiter, Columns FROM sniff_csv(?, header = true, "
        "ignore_errors = true, decimal_separator = ?)",
        [path, decimal_separator],
    ).fetchone()
    return delimiter, columns


def _numeric_count(columns: list[dict[str, Any]]) -> int:
    return sum(column_type(c["type"]) in ("integer", "float") for c in columns)


def _preview(columns: list[dict[str, Any]]) -> str:
    first_line = columns[0]["name"] if columns else ""
    return repr(first_line if len(first_line) <= 60 else first_line[:57] + "...")
