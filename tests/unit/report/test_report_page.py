"""The HTML report: what a reader sees for each kind of dataset."""

import base64

from report_helpers import (
    date_column,
    make_event,
    numeric_column,
    parse_report,
    text_column,
)

HEADER = ["Column", "Type", "Nulls", "Distinct", "Min", "Max", "Mean", "Top values"]


def _page(report_dir, report_id="report-1"):
    return (report_dir / report_id / "report.html").read_bytes()


def _embedded_pngs(report):
    prefix = "data:image/png;base64,"
    assert all(image["src"].startswith(prefix) for image in report.images)
    return [base64.b64decode(image["src"][len(prefix):]) for image in report.images]


def test_report_shows_the_facts_of_the_import(build, report_dir, numeric_event):
    build(numeric_event)

    report = parse_report(_page(report_dir))

    assert report.title == "Dataset report: orders"
    assert report.facts == {
        "Dataset": "orders",
        "Dataset id": "ds-42",
        "Source": "https://example.com/orders.csv",
        "Imported at": "2024-05-01 12:30:00+00:00",
    }
    assert report.cards == {"rows": "100", "rejected-rows": "2", "column-count": "2"}
    assert report.notes == [
        "2 rows were rejected by the import and are not counted in these statistics."
    ]


def test_report_for_numeric_dataset_lists_each_column_with_its_statistics(
    build, report_dir, numeric_event
):
    build(numeric_event)

    report = parse_report(_page(report_dir))

    assert report.header == HEADER
    assert report.rows == [
        {"Column": "price", "Type": "float", "Nulls": "5 (5.0%)", "Distinct": "87",
         "Min": "0.5", "Max": "19.75", "Mean": "9.125", "Top values": "—"},
        {"Column": "quantity", "Type": "integer", "Nulls": "0 (0.0%)",
         "Distinct": "9", "Min": "1", "Max": "9", "Mean": "3.5", "Top values": "—"},
    ]


def test_report_for_numeric_dataset_embeds_a_histogram_chart(
    build, report_dir, numeric_event
):
    build(numeric_event)

    report = parse_report(_page(report_dir))

    assert report.captions == [
        "Nulls per column",
        "Distribution of price",
        "Distribution of quantity",
    ]
    on_disk = sorted((report_dir / "report-1").glob("chart-*.png"))
    assert [path.name for path in on_disk] == [
        "chart-00-nulls.png",
        "chart-01-histogram-price.png",
        "chart-02-histogram-quantity.png",
    ]
    assert _embedded_pngs(report) == [path.read_bytes() for path in on_disk]


def test_report_for_text_dataset_shows_and_charts_its_top_values(
    build, report_dir, text_event
):
    build(text_event)

    report = parse_report(_page(report_dir))

    assert report.rows == [
        {"Column": "city", "Type": "text", "Nulls": "3 (3.0%)", "Distinct": "12",
         "Min": "Aachen", "Max": "Zürich", "Mean": "—",
         "Top values": "Berlin × 60 Paris × 37"},
    ]
    assert report.captions == [
        "Nulls per column",
        "Most frequent values of city",
    ]


def test_report_for_date_dataset_shows_first_and_last_dates(
    build, report_dir, date_event
):
    build(date_event)

    report = parse_report(_page(report_dir))

    assert report.rows[0]["Min"] == "2024-01-01"
    assert report.rows[0]["Max"] == "2024-01-31"
    assert report.rows[0]["Type"] == "date"
    assert report.captions == ["Nulls per column"]


def test_report_for_empty_dataset_lists_its_columns_and_draws_no_chart(
    build, report_dir, empty_event
):
    build(empty_event)

    report = parse_report(_page(report_dir))

    assert report.cards["rows"] == "0"
    assert [row["Column"] for row in report.rows] == ["price", "city"]
    assert [row["Nulls"] for row in report.rows] == ["0", "0"]
    assert report.images == []
    assert report.notes == ["The dataset has no rows, so the report has no charts."]
    assert list((report_dir / "report-1").glob("chart-*.png")) == []


def test_report_without_nulls_draws_no_nulls_chart(build, report_dir):
    build(make_event([numeric_column(nulls=0)]))

    report = parse_report(_page(report_dir))

    assert report.captions == ["Distribution of price"]


def test_html_escapes_a_column_named_script(build, report_dir):
    hostile = "<script>alert('x')</script>"
    event = make_event(
        [text_column("<script>", top=((hostile, 4),))], name="<b>bold</b> & co"
    )
    build(event)

    page = _page(report_dir)
    report = parse_report(page)

    assert report.script_tags == 0
    assert b"<script>" not in page
    assert report.rows[0]["Column"] == "<script>"
    assert report.rows[0]["Top values"] == f"{hostile} × 4"
    assert report.title == "Dataset report: <b>bold</b> & co"
    assert report.captions[-1] == "Most frequent values of <script>"


def test_report_charts_at_most_twenty_columns_and_says_so(build, report_dir):
    event = make_event([numeric_column(f"c{i}", nulls=0) for i in range(25)])
    build(event)

    report = parse_report(_page(report_dir))

    assert len(report.images) == 20
    assert report.notes == [
        "5 more columns could have a chart; a report draws at most 20 column "
        "charts, so that it fits in an email."
    ]


def test_nulls_chart_of_a_wide_dataset_shows_the_forty_most_null_columns(
    build, report_dir
):
    event = make_event([date_column(f"d{i}", nulls=i) for i in range(45)])
    build(event)

    report = parse_report(_page(report_dir))

    assert report.captions == ["Nulls per column (40 of 45, the most nulls first)"]
