"""Fixtures of the report context: hand-built events and the real adapters."""

import pytest
from context_report.charts import MatplotlibCharts
from context_report.services import build_report
from context_report.store import ReportFiles
from report_helpers import date_column, make_event, numeric_column, text_column
from shared_kernel.contracts import ColumnProfile, HistogramBin


@pytest.fixture
def numeric_event():
    integer = ColumnProfile(
        name="quantity", type="integer", nulls=0, distinct=9, min=1.0, max=9.0,
        mean=3.5, histogram=(HistogramBin(low=1, high=5, count=70),
                             HistogramBin(low=5, high=9, count=30)),
    )
    return make_event([numeric_column(), integer], rejected_rows=2)


@pytest.fixture
def text_event():
    return make_event([text_column()], name="cities")


@pytest.fixture
def date_event():
    return make_event([date_column(nulls=4)], name="calendar")


@pytest.fixture
def empty_event():
    columns = [
        ColumnProfile(name="price", type="float", nulls=0, distinct=0),
        ColumnProfile(name="city", type="text", nulls=0, distinct=0),
    ]
    return make_event(columns, rows=0, name="empty")


@pytest.fixture(scope="session")
def charts():
    return MatplotlibCharts()


@pytest.fixture
def report_dir(tmp_path):
    return tmp_path / "reports"


@pytest.fixture
def build(report_dir, charts):
    """Build a report with the real adapters, into ``report_dir``."""

    def build(event, report_id="report-1"):
        files = ReportFiles(report_dir)
        return build_report(event, report_id=report_id, files=files, charts=charts)

    return build
