"""The benchmark's chart: one PNG with a panel per kind of figure."""

from collections.abc import Sequence
from pathlib import Path

import matplotlib

matplotlib.use("Agg")

import matplotlib.pyplot as plt  # noqa: E402

from devtools.bench.figures import AT_LEAST, Figure  # noqa: E402
from devtools.bench.report import number  # noqa: E402

LAYOUT = [["send", "drain"], ["latency", "idle"], ["targets", "targets"]]
RATES = {
    "send": ("Send rate (msg/s)", "msg/s"),
    "drain": ("Drain rate of one consumer process (msg/s)", "msg/s"),
    "idle": ("Idle consumer: Redis commands/s", "cmd/s"),
}
NEUTRAL, MEETS, MISSES = "#8fa8c8", "#5aa469", "#d9534f"
# Keeps a value readable where a target line or a marker crosses it.
LABEL_BOX = {"facecolor": "white", "edgecolor": "none", "alpha": 0.8, "pad": 1}


def draw(figures: Sequence[Figure], path: Path) -> None:
    """Draw rates, latencies and every figure's distance to its target."""
    fig, axes = plt.subplot_mosaic(
        LAYOUT, figsize=(15, 13), height_ratios=(1, 1.2, 1), layout="constrained"
    )
    for key, (title, unit) in RATES.items():
        chosen = [f for f in figures if f.name.startswith(f"{key}.") and f.unit == unit]
        _rates(axes[key], title, chosen)
    _latencies(axes["latency"], figures)
    _targets(axes["targets"], [f for f in figures if f.target is not None])
    fig.suptitle(
        "Platform benchmark: medians; whiskers from the lowest to the highest run"
    )
    fig.savefig(path, dpi=100)
    plt.close(fig)


def _rates(axis, title: str, figures: Sequence[Figure]) -> None:
    values = [f.value or 0.0 for f in figures]
    below = [_gap(v, f.low) for f, v in zip(figures, values)]
    above = [_gap(f.high, v) for f, v in zip(figures, values)]
    positions = range(len(figures))
    axis.barh(positions, values, xerr=[below, above], color=_colors(figures),
              capsize=3)
    for position, figure in zip(positions, figures):
        if figure.target is not None:
            axis.plot([figure.target] * 2, [position - 0.4, position + 0.4], "k--")
        _label(axis, position, figure.value, number(figure.value))
    _names(axis, title, figures)
    axis.margins(x=0.15)


def _latencies(axis, figures: Sequence[Figure]) -> None:
    """One bar per series at its p50, with its p95 and p99 marked on it."""
    p50s = [f for f in figures if f.unit == "ms" and f.name.endswith("_p50")]
    by_name = {f.name: f for f in figures}
    positions = range(len(p50s))
    axis.barh(positions, [f.value or 0.0 for f in p50s], color=_colors(p50s))
    for position, p50 in zip(positions, p50s):
        series = p50.name.removesuffix("_p50")
        ends = [p50.value or 0.0]
        for rank, marker in (("p95", "D"), ("p99", "^")):
            high = by_name.get(f"{series}_{rank}")
            if high is not None and high.value:
                axis.plot(high.value, position, marker, color="k", markersize=5)
                ends.append(high.value)
        if p50.target is not None:
            axis.plot([p50.target] * 2, [position - 0.4, position + 0.4], "k--")
        # Written after the last marker, so that none hides the number.
        _label(axis, position, p50.value, f"{number(p50.value)} ms", at=max(ends))
    _names(axis, "Latency, ms (log): bar p50, diamond p95, triangle p99", p50s)
    axis.set_yticklabels([f.name.split(".")[-1].removesuffix("_p50") for f in p50s])
    if any(f.value for f in p50s):
        axis.set_xscale("log")
    axis.margins(x=0.2)


def _targets(axis, figures: Sequence[Figure]) -> None:
    """How many times a figure meets its target (1 or more) or misses it."""
    margins = [_margin(f) for f in figures]
    positions = range(len(figures))
    axis.barh(positions, [m or 0.0 for m in margins], color=_colors(figures))
    axis.axvline(1.0, color="k", linestyle="--")
    for position, figure, margin in zip(positions, figures, margins):
        text = (f"{number(figure.value)} {figure.unit}, target {figure.compare} "
                f"{number(figure.target)}")
        _label(axis, position, figure.value, text, at=margin)
    title = "Targets: times better than the target (1 or more meets it), log scale"
    _names(axis, title, figures, full=True)
    if any(margins):
        axis.set_xscale("log")
    axis.margins(x=0.25)


def _margin(figure: Figure) -> float | None:
    """The figure's ratio to its target, turned so that more is better.

    None where there is no bar to draw: no value, or a value of 0.
    """
    ratio = figure.to_target
    if not ratio:
        return None
    return ratio if figure.compare == AT_LEAST else 1 / ratio


def _label(
    axis, position: int, value: float | None, text: str, *, at: float | None = None
) -> None:
    """Write ``text`` at the end of a bar, or at the left where it has none."""
    text = text if value is not None else "missing"
    x = value if at is None else at
    if not x:
        # In axis coordinates: a log scale has no zero to write at.
        axis.text(0.01, position, text, va="center", fontsize=8,
                  transform=axis.get_yaxis_transform())
        return
    axis.annotate(text, (x, position), xytext=(6, 0), textcoords="offset points",
                  va="center", fontsize=8, bbox=LABEL_BOX)


def _names(axis, title: str, figures: Sequence[Figure], *, full: bool = False) -> None:
    # A panel of one kind drops the kind: "send.kernel" is "kernel" there.
    labels = [f.name if full else f.name.split(".", 1)[-1] for f in figures]
    axis.set_yticks(range(len(figures)), labels, fontsize=8)
    axis.invert_yaxis()
    axis.set_title(title)


def _gap(top: float | None, bottom: float | None) -> float:
    if top is None or bottom is None:
        return 0.0
    return max(top - bottom, 0.0)


def _colors(figures: Sequence[Figure]) -> list[str]:
    return [{None: NEUTRAL, True: MEETS, False: MISSES}[f.meets] for f in figures]
