"""How the benchmark's figures are shown: a table, JSON, and results.json."""

import json
from collections.abc import Sequence
from pathlib import Path

from devtools.bench.figures import Figure

COLUMNS = (
    "figure", "value", "unit", "target", "meets", "of target", "spread (runs)"
)
LEFT_ALIGNED = (0, 2)


def table(figures: Sequence[Figure]) -> str:
    """Return the figures as a text table, one per line, notes at the end."""
    rows = [COLUMNS] + [_row(figure) for figure in figures]
    widths = [max(len(row[i]) for row in rows) for i in range(len(COLUMNS))]
    lines = []
    for index, row in enumerate(rows):
        cells = [
            cell.ljust(width) if column in LEFT_ALIGNED else cell.rjust(width)
            for column, (cell, width) in enumerate(zip(row, widths))
        ]
        lines.append("  ".join(cells).rstrip())
        if index == 0:
            lines.append("  ".join("-" * width for width in widths))
    notes = [f"  {f.name}: {f.note}" for f in figures if f.note]
    return "\n".join(lines + (["", "notes:", *notes] if notes else []))


def as_json(figures: Sequence[Figure]) -> str:
    """Return the figures as the JSON list ``--json`` prints."""
    return json.dumps([figure.public() for figure in figures], indent=2)


def write_results(path: Path, figures: Sequence[Figure], run: dict) -> None:
    """Write every figure with its spread, and how the run was made."""
    document = {"run": run, "figures": [figure.detailed() for figure in figures]}
    path.write_text(json.dumps(document, indent=2) + "\n")


def number(value: float | None) -> str:
    """Format a figure's value with as many digits as its size needs."""
    if value is None:
        return "missing"
    if abs(value) >= 100:
        return f"{value:.0f}"
    if abs(value) >= 10:
        return f"{value:.1f}"
    return f"{value:.2f}"


def _row(figure: Figure) -> tuple[str, ...]:
    target = ""
    if figure.target is not None:
        target = f"{figure.compare} {number(figure.target)}"
    meets = {None: "", True: "yes", False: "NO"}[figure.meets]
    # How far the value is from its target: 0.60x of an at-least target
    # misses it by 40 %, 150x of an at-most target is 150 times too high.
    of_target = "" if figure.to_target is None else f"{number(figure.to_target)}x"
    spread = ""
    if figure.low is not None and figure.high is not None:
        spread = f"{number(figure.low)}-{number(figure.high)}"
        if figure.runs:
            spread += f" ({figure.runs})"
    value = number(figure.value)
    return (figure.name, value, figure.unit, target, meets, of_target, spread)
