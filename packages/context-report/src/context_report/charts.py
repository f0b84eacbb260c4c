"""Charts drawn with matplotlib, returned as PNG bytes.

Each chart is a :class:`~matplotlib.figure.Figure` attached to its own Agg
canvas. Nothing goes through ``pyplot``: no backend is selected globally, no
figure is registered in pyplot's global list, and charts can be drawn from
several worker threads at once.
"""

import io
from collections.abc import Sequence

from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.figure import Figure
from matplotlib.ticker import MaxNLocator, PercentFormatter
from shared_kernel.contracts import ColumnProfile

BAR_COLOR = "#3b6ea5"
NULL_COLOR = "#c8553d"
WIDTH_IN = 7.0
DPI = 100
MAX_LABEL_CHARS = 28
BAR_LABEL_ROOM = 1.25


class MatplotlibCharts:
    """The chart adapter of the report context (implements ``ChartPort``)."""

    def nulls_per_column(
        self, columns: Sequence[ColumnProfile], *, rows: int, title: str
    ) -> bytes:
        """Draw one horizontal bar per column: its share of null values."""
        figure = _figure(bars=len(columns))
        axes = figure.add_subplot()
        shares = [100 * c.nulls / rows if rows else 0.0 for c in columns]
        pairs = zip(columns, shares, strict=True)
        labels = [f"{column.nulls:,} ({share:.1f}%)" for column, share in pairs]
        _horizontal_bars(
            axes, [c.name for c in columns], shares, bar_labels=labels, color=NULL_COLOR
        )
        # Room on the right for the bar labels; small shares stay visible.
        right = min(100.0, max(max(shares, default=0) * BAR_LABEL_ROOM, 1.0))
        axes.set_xlim(0, right)
        axes.xaxis.set_major_locator(MaxNLocator(nbins=6, steps=[1, 2, 5, 10]))
        axes.xaxis.set_major_formatter(
            PercentFormatter(xmax=100, decimals=0 if right >= 5 else 1)
        )
        axes.set_xlabel(f"share of {rows:,} rows that are null")
        axes.set_title(title, loc="left")
        return _png(figure)

    def histogram(self, column: ColumnProfile) -> bytes:
        """Draw the histogram bins of a numeric column as adjacent bars."""
        figure = _figure(bars=0)
        axes = figure.add_subplot()
        bins = column.histogram
        axes.bar(
            [b.low for b in bins],
            [b.count for b in bins],
            width=[b.high - b.low for b in bins],
            align="edge",
            color=BAR_COLOR,
            edgecolor="white",
            linewidth=0.8,
        )
        axes.set_xlabel(_label(column.name))
        axes.set_ylabel("rows")
        axes.set_title(f"Distribution of {_label(column.name)}", loc="left")
        _tidy(axes, grid_axis="y")
        return _png(figure)

    def top_values(self, column: ColumnProfile) -> bytes:
        """Draw the most frequent values of a column, the most frequent on top."""
        values = column.top_values
        figure = _figure(bars=len(values))
        axes = figure.add_subplot()
        counts = [v.count for v in values]
        _horizontal_bars(
            axes,
            [v.value if v.value != "" else "(empty)" for v in values],
            counts,
            bar_labels=[f"{count:,}" for count in counts],
            color=BAR_COLOR,
        )
        axes.set_xlim(0, max(max(counts, default=0) * BAR_LABEL_ROOM, 1))
        axes.set_xlabel("rows")
        axes.set_title(f"Most frequent values of {_label(column.name)}", loc="left")
        return _png(figure)


def _figure(*, bars: int) -> Figure:
    height_in = 3.2 if bars <= 6 else 1.2 + 0.32 * bars
    figure = Figure(figsize=(WIDTH_IN, height_in), dpi=DPI, layout="constrained")
    FigureCanvasAgg(figure)
    return figure


def _horizontal_bars(
    axes, labels: list[str], values: list[float], *, bar_labels: list[str], color: str
) -> None:
    positions = range(len(labels))
    bars = axes.barh(positions, values, color=color, height=0.7)
    axes.bar_label(bars, labels=bar_labels, padding=3, fontsize=8, color="#52606d")
    axes.set_yticks(positions, [_label(label) for label in labels])
    axes.margins(y=0.02)
    axes.invert_yaxis()
    _tidy(axes, grid_axis="x")


def _tidy(axes, *, grid_axis: str) -> None:
    axes.spines[["top", "right"]].set_visible(False)
    axes.grid(axis=grid_axis, color="#dddddd", linewidth=0.8)
    axes.set_axisbelow(True)


def _label(text: str) -> str:
    """Shorten ``text`` to fit a tick label; matplotlib would draw ``$`` as math."""
    text = text if len(text) <= MAX_LABEL_CHARS else text[: MAX_LABEL_CHARS - 1] + "…"
    return text.replace("$", r"\$")


def _png(figure: Figure) -> bytes:
    buffer = io.BytesIO()
    try:
        figure.savefig(buffer, format="png", metadata={"Software": None})
    finally:
        # The figure holds reference cycles; clearing it frees the artists now
        # rather than at the next garbage collection.
        figure.clear()
    return buffer.getvalue()
