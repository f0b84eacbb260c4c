"""Report folders: one per report id, replaced whole when a report is rebuilt."""

import os
import threading
import time

import pytest
from context_report.services import build_report
from context_report.store import STALE_AFTER_S, ReportFiles
from report_helpers import make_event, numeric_column
from shared_kernel.errors import PermanentError


def _snapshot(folder):
    return {path.name: path.read_bytes() for path in folder.iterdir()}


def test_rebuilding_the_same_report_id_leaves_one_report_with_the_same_files(
    build, report_dir, numeric_event
):
    build(numeric_event, report_id="report-1")
    first = _snapshot(report_dir / "report-1")

    build(numeric_event, report_id="report-1")

    assert os.listdir(report_dir) == ["report-1"]
    assert _snapshot(report_dir / "report-1") == first
    assert sorted(first) == [
        "chart-00-nulls.png",
        "chart-01-histogram-price.png",
        "chart-02-histogram-quantity.png",
        "report.html",
        "summary.csv",
    ]


def test_rebuild_drops_files_that_the_new_report_no_longer_has(
    build, report_dir, numeric_event
):
    build(numeric_event)

    build(make_event([numeric_column(nulls=0)]))

    assert sorted(os.listdir(report_dir / "report-1")) == [
        "chart-01-histogram-price.png",
        "report.html",
        "summary.csv",
    ]


def test_concurrent_rebuilds_of_one_report_id_end_in_one_whole_report(
    report_dir, charts, numeric_event
):
    files = ReportFiles(report_dir)
    errors = []

    def rebuild():
        try:
            build_report(numeric_event, report_id="r", files=files, charts=charts)
        except Exception as error:  # noqa: BLE001 - the test reports it below
            errors.append(error)

    threads = [threading.Thread(target=rebuild) for _ in range(6)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()

    assert errors == []
    assert os.listdir(report_dir) == ["r"]
    assert len(os.listdir(report_dir / "r")) == 5


def test_reports_with_different_ids_live_side_by_side(build, report_dir, text_event):
    build(text_event, report_id="a")
    build(text_event, report_id="b")

    assert sorted(os.listdir(report_dir)) == ["a", "b"]


def test_staging_folders_left_by_a_crashed_writer_are_swept(report_dir):
    files = ReportFiles(report_dir)
    files.write("first", {"report.html": b"<p>1</p>"})
    abandoned = report_dir / ".tmp-first-0123"
    abandoned.mkdir()
    (abandoned / "report.html").write_bytes(b"half")
    long_ago = time.time() - STALE_AFTER_S - 60
    os.utime(abandoned, (long_ago, long_ago))

    files.write("second", {"report.html": b"<p>2</p>"})

    assert sorted(os.listdir(report_dir)) == ["first", "second"]


@pytest.mark.parametrize("report_id", ["../escape", "a/b", ".hidden", "", "x" * 200])
def test_report_id_that_is_not_a_plain_name_is_rejected(report_dir, report_id):
    with pytest.raises(ValueError, match="report id must be 1 to 128 letters"):
        ReportFiles(report_dir).write(report_id, {"report.html": b""})

    assert not report_dir.exists() or os.listdir(report_dir) == []


def test_service_turns_an_unsafe_report_id_into_a_permanent_error(
    report_dir, charts, text_event
):
    files = ReportFiles(report_dir)

    with pytest.raises(PermanentError, match=r"cannot store report '\.\./x'"):
        build_report(text_event, report_id="../x", files=files, charts=charts)
