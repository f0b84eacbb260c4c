"""The CSV summary: one row per column, as numbers a spreadsheet can use."""

import csv
import io
import json

from context_report.rendering import CSV_HEADER
from report_helpers import make_event, text_column


def _rows(report_dir, report_id="report-1"):
    text = (report_dir / report_id / "summary.csv").read_text(encoding="utf-8")
    return list(csv.DictReader(io.StringIO(text, newline="")))


def test_csv_has_one_row_per_column_matching_the_profile(
    build, report_dir, numeric_event
):
    build(numeric_event)

    rows = _rows(report_dir)

    assert list(rows[0]) == list(CSV_HEADER)
    assert rows == [
        {"column": "price", "type": "float", "nulls": "5", "distinct": "87",
         "min": "0.5", "max": "19.75", "mean": "9.125", "top_values": ""},
        {"column": "quantity", "type": "integer", "nulls": "0", "distinct": "9",
         "min": "1", "max": "9", "mean": "3.5", "top_values": ""},
    ]


def test_csv_top_values_are_a_json_object_of_counts(build, report_dir):
    top = (("Berlin", 60), ('Say "hi", then, go', 5), ("", 2))
    build(make_event([text_column(top=top)]))

    (row,) = _rows(report_dir)

    assert json.loads(row["top_values"]) == {value: count for value, count in top}
    assert (row["min"], row["max"]) == ("Aachen", "Zürich")


def test_csv_of_an_empty_dataset_still_lists_its_columns(
    build, report_dir, empty_event
):
    build(empty_event)

    rows = _rows(report_dir)

    assert [(r["column"], r["nulls"], r["min"]) for r in rows] == [
        ("price", "0", ""), ("city", "0", ""),
    ]


def test_csv_cell_that_a_spreadsheet_would_run_as_formula_is_quoted(
    build, report_dir
):
    build(make_event([text_column("=HYPERLINK(\"http://x\")")]))

    (row,) = _rows(report_dir)

    assert row["column"] == "'=HYPERLINK(\"http://x\")"
