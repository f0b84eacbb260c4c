"""The ReportReady event: what the email context, on another machine, receives."""

from pathlib import Path

from context_report.services import build_report
from report_helpers import make_event, numeric_column, text_column
from shared_kernel.contracts import ReportReady


def test_report_ready_names_the_dataset_recipients_and_html_path(
    build, report_dir, numeric_event
):
    ready = build(numeric_event, report_id="report-7")

    assert ready.report_id == "report-7"
    assert (ready.dataset_id, ready.dataset_name) == ("ds-42", "orders")
    assert ready.title == "Dataset report: orders"
    assert ready.recipients == ("ops@example.com", "ana@example.org")
    assert Path(ready.report_path) == (report_dir / "report-7" / "report.html")
    assert Path(ready.report_path).is_absolute()


def test_report_ready_summary_is_short_plain_text(build, numeric_event):
    ready = build(numeric_event)

    assert ready.summary.splitlines() == [
        "Dataset 'orders' from https://example.com/orders.csv",
        "100 rows (2 rejected), 2 columns: 1 float, 1 integer.",
        "Most nulls: 'price', 5 rows (5.0%).",
    ]


def test_summary_of_an_empty_dataset_says_it_has_no_nulls(build, empty_event):
    ready = build(empty_event)

    assert "0 rows (0 rejected), 2 columns: 1 float, 1 text." in ready.summary
    assert ready.summary.endswith("No column has null values.")


def test_attachments_decode_back_to_the_files_on_disk(build, report_dir, text_event):
    ready = build(text_event)

    folder = report_dir / "report-1"
    assert [(a.filename, a.content_type) for a in ready.attachments] == [
        ("report.html", "text/html"),
        ("summary.csv", "text/csv"),
    ]
    for attachment in ready.attachments:
        assert attachment.content == (folder / attachment.filename).read_bytes()


def test_report_ready_survives_the_trip_through_json(build, numeric_event):
    ready = build(numeric_event)

    received = ReportReady.model_validate_json(ready.model_dump_json())

    assert received == ready
    assert received.attachments[0].content.startswith(b"<!DOCTYPE html>")


def test_attachments_of_a_wide_dataset_stay_well_under_five_megabytes(build):
    columns = [numeric_column(f"number {i}", nulls=i) for i in range(150)]
    columns += [text_column(f"text {i}", nulls=i) for i in range(150)]
    ready = build(make_event(columns, rows=1000))

    encoded = len(ready.model_dump_json().encode())

    assert {a.filename for a in ready.attachments} == {"report.html", "summary.csv"}
    assert encoded < 4 * 1024 * 1024


def test_report_without_recipients_is_still_built(build, report_dir):
    ready = build(make_event([numeric_column()], report_to=()))

    assert ready.recipients == ()
    assert Path(ready.report_path).is_file()


class _FakeCharts:
    def nulls_per_column(self, columns, *, rows, title):
        return b"nulls"

    def histogram(self, column):
        return b"histogram"

    def top_values(self, column):
        return b"top values"


class _MemoryFiles:
    def __init__(self):
        self.reports = {}

    def write(self, report_id, files):
        self.reports[report_id] = dict(files)
        return Path("/memory") / report_id


def test_html_too_large_to_mail_is_left_out_and_the_summary_says_where_it_is():
    columns = [text_column(f"text column number {i}") for i in range(6000)]
    files = _MemoryFiles()

    ready = build_report(
        make_event(columns), report_id="huge", files=files, charts=_FakeCharts()
    )

    assert len(files.reports["huge"]["report.html"]) > 2 * 1024 * 1024
    assert [a.filename for a in ready.attachments] == ["summary.csv"]
    assert ready.summary.endswith(
        "The HTML report was too large to attach; see the report path."
    )
    assert ready.report_path == "/memory/huge/report.html"
