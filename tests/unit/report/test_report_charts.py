"""The chart adapter: real PNG images, safe in threads, no global pyplot state."""

import gc
import os
import subprocess
import sys
import textwrap
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest
from report_helpers import date_column, numeric_column, png_size, text_column


def _plausible(width, height):
    return 400 <= width <= 1600 and 200 <= height <= 2000


def test_histogram_is_a_png_of_plausible_size(charts):
    data = charts.histogram(numeric_column())

    width, height = png_size(data)

    assert _plausible(width, height)
    assert 5_000 < len(data) < 200_000


def test_top_values_chart_is_a_png_of_plausible_size(charts):
    data = charts.top_values(text_column(top=(("a", 3), ("", 2), ("$x$", 1))))

    assert _plausible(*png_size(data))


def test_nulls_chart_grows_taller_with_the_number_of_columns(charts):
    few = [numeric_column(f"c{i}") for i in range(3)]
    many = [date_column(f"column {i} with a rather long name indeed", nulls=i)
            for i in range(40)]

    few_size = png_size(charts.nulls_per_column(few, rows=100, title="Nulls"))
    many_size = png_size(charts.nulls_per_column(many, rows=100, title="Nulls"))

    assert _plausible(*few_size) and _plausible(*many_size)
    assert many_size[1] > 3 * few_size[1]


def test_report_pngs_on_disk_are_real_pngs(build, report_dir, numeric_event):
    build(numeric_event)

    paths = sorted((report_dir / "report-1").glob("chart-*.png"))

    assert len(paths) == 3
    assert all(_plausible(*png_size(path.read_bytes())) for path in paths)


def test_charts_drawn_in_worker_threads_match_charts_drawn_alone(charts):
    column = numeric_column()
    alone = charts.histogram(column)

    with ThreadPoolExecutor(max_workers=8) as pool:
        drawn = list(pool.map(lambda _: charts.histogram(column), range(16)))

    assert all(png == alone for png in drawn)


def test_drawing_charts_does_not_load_pyplot():
    script = textwrap.dedent("""
        import sys
        from context_report.charts import MatplotlibCharts
        from shared_kernel.contracts import ColumnProfile, HistogramBin
        column = ColumnProfile(name="x", type="float", nulls=0, distinct=2,
                               histogram=(HistogramBin(low=0, high=1, count=2),))
        MatplotlibCharts().histogram(column)
        print("matplotlib.pyplot" in sys.modules)
    """)

    result = subprocess.run(
        [sys.executable, "-c", script], capture_output=True, text=True, check=True
    )

    assert result.stdout.strip() == "False"


@pytest.mark.skipif(not Path("/proc/self/statm").exists(), reason="needs Linux")
def test_drawing_many_charts_does_not_grow_memory(charts):
    column = numeric_column()
    for _ in range(5):
        charts.histogram(column)
    gc.collect()
    before = _resident_bytes()

    for _ in range(30):
        charts.histogram(column)
    gc.collect()

    # Each leaked figure keeps its 700x320 RGBA canvas: 30 of them hold ~26 MB.
    assert _resident_bytes() - before < 12 * 1024 * 1024


def _resident_bytes() -> int:
    pages = int(Path("/proc/self/statm").read_text().split()[1])
    return pages * os.sysconf("SC_PAGE_SIZE")
