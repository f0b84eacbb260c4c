"""Figures of the benchmark: a value with its unit, spread and target."""

import math
import statistics
from collections.abc import Sequence
from dataclasses import dataclass

AT_LEAST, AT_MOST = ">=", "<="
RANKS = (50, 95, 99)


@dataclass(frozen=True, slots=True)
class Figure:
    """One measured figure.

    ``value`` is None when the figure could not be measured; ``note`` then
    says why. ``low`` and ``high`` are the smallest and largest of the runs
    or samples it summarises, ``runs`` their count.
    """

    name: str
    value: float | None
    unit: str
    target: float | None = None
    compare: str | None = None
    low: float | None = None
    high: float | None = None
    runs: int | None = None
    note: str | None = None

    @property
    def meets(self) -> bool | None:
        """Whether the value meets the target; None when there is no target."""
        if self.target is None:
            return None
        # Compared as printed, so a reader of the JSON finds the same answer.
        return meets(_rounded(self.value), _rounded(self.target), self.compare)

    @property
    def to_target(self) -> float | None:
        """The value divided by the target: how far it is from meeting it."""
        return _divide(self.value, self.target)

    def public(self) -> dict:
        """Return the figure as printed by ``--json``."""
        out = {"name": self.name, "value": _rounded(self.value), "unit": self.unit}
        if self.target is not None:
            out.update(
                target=_rounded(self.target),
                compare=self.compare,
                meets=self.meets,
                value_to_target=_rounded(self.to_target),
            )
        if self.runs is not None:
            # The noise: the lowest and highest of the runs the value is the
            # median of.
            out.update(low=_rounded(self.low), high=_rounded(self.high), runs=self.runs)
        if self.note:
            out["note"] = self.note
        return out

    def detailed(self) -> dict:
        """Return the figure with its spread, as written to ``results.json``."""
        out = self.public()
        out.update(low=_rounded(self.low), high=_rounded(self.high), runs=self.runs)
        return out


def meets(value: float | None, target: float, compare: str) -> bool:
    """Compare ``value`` with ``target``; a missing value meets nothing."""
    if value is None:
        return False
    return value >= target if compare == AT_LEAST else value <= target


def summary(
    name: str,
    values: Sequence[float],
    unit: str,
    *,
    target: float | None = None,
    compare: str | None = None,
    note: str | None = None,
) -> Figure:
    """Summarise repeated measurements by their median and their range."""
    if not values:
        return missing(name, unit, "no measurement", target=target, compare=compare)
    return _spread(name, statistics.median(values), unit, values, target, compare, note)


def ratio(
    name: str,
    top: Figure,
    bottom: Figure,
    *,
    target: float,
    compare: str = AT_LEAST,
    note: str | None = None,
) -> Figure:
    """Divide two figures' medians; the range divides their extremes."""
    if top.value is None or bottom.value is None or not bottom.value:
        why = top.note or bottom.note or "a figure it needs is missing"
        return missing(name, "x", why, target=target, compare=compare)
    low = _divide(top.low, bottom.high)
    high = _divide(top.high, bottom.low)
    value = top.value / bottom.value
    return Figure(name, value, "x", target, compare, low, high, note=note)


def percentiles(
    name: str,
    samples: Sequence[float],
    unit: str,
    *,
    targets: dict[int, float | None] | None = None,
    notes: dict[int, str] | None = None,
) -> list[Figure]:
    """Return the 50th, 95th and 99th percentiles of ``samples``.

    ``targets`` maps a percentile to its upper bound, ``notes`` to its note.
    With few samples the high percentiles approach the largest sample;
    ``runs`` shows how many there were.
    """
    targets, notes = targets or {}, notes or {}
    figures = []
    for rank in RANKS:
        label, target, note = f"{name}_p{rank}", targets.get(rank), notes.get(rank)
        compare = AT_MOST if target is not None else None
        if not samples:
            figures.append(missing(label, unit, note or "no samples",
                                   target=target, compare=compare))
            continue
        value = percentile(samples, rank)
        figures.append(_spread(label, value, unit, samples, target, compare, note))
    return figures


def percentile(samples: Sequence[float], rank: float) -> float:
    """Return a percentile, interpolating linearly between the closest ranks."""
    ordered = sorted(samples)
    position = (len(ordered) - 1) * rank / 100
    below, above = math.floor(position), math.ceil(position)
    weight = position - below
    return ordered[below] * (1 - weight) + ordered[above] * weight


def missing(
    name: str,
    unit: str,
    why: str,
    *,
    target: float | None = None,
    compare: str | None = None,
) -> Figure:
    """Return a figure that could not be measured, saying why."""
    return Figure(name, None, unit, target, compare, note=why)


def _spread(
    name: str,
    value: float,
    unit: str,
    values: Sequence[float],
    target: float | None,
    compare: str | None,
    note: str | None,
) -> Figure:
    low, high = min(values), max(values)
    return Figure(name, value, unit, target, compare, low, high, len(values), note)


def _divide(top: float | None, bottom: float | None) -> float | None:
    if top is None or not bottom:
        return None
    return top / bottom


def _rounded(value: float | None) -> float | None:
    if value is None:
        return None
    return round(value, 3 if abs(value) < 100 else 1)
