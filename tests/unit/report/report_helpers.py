"""Builders of hand-made events and readers of report files, for the tests."""

import struct
from dataclasses import dataclass, field
from datetime import UTC, datetime
from html.parser import HTMLParser

from shared_kernel.contracts import (
    ColumnProfile,
    DatasetImported,
    DatasetProfile,
    HistogramBin,
    ValueCount,
)

PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"
IMPORTED_AT = datetime(2024, 5, 1, 12, 30, tzinfo=UTC)


def make_event(columns, *, rows=100, rejected_rows=0, name="orders", **fields):
    """Build a ``DatasetImported`` event around ``columns``."""
    return DatasetImported(
        dataset_id=fields.pop("dataset_id", "ds-42"),
        name=name,
        source=fields.pop("source", "https://example.com/orders.csv"),
        imported_at=IMPORTED_AT,
        profile=DatasetProfile(
            rows=rows, rejected_rows=rejected_rows, columns=tuple(columns)
        ),
        report_to=fields.pop("report_to", ("ops@example.com", "ana@example.org")),
        **fields,
    )


def numeric_column(name="price", *, nulls=5, bins=((0, 10, 40), (10, 20, 55))):
    return ColumnProfile(
        name=name, type="float", nulls=nulls, distinct=87, min=0.5, max=19.75,
        mean=9.125,
        histogram=tuple(HistogramBin(low=lo, high=hi, count=n) for lo, hi, n in bins),
    )


def text_column(name="city", *, nulls=3, top=(("Berlin", 60), ("Paris", 37))):
    return ColumnProfile(
        name=name, type="text", nulls=nulls, distinct=12, min="Aachen", max="Zürich",
        top_values=tuple(ValueCount(value=v, count=n) for v, n in top),
    )


def date_column(name="ordered_on", *, nulls=0):
    return ColumnProfile(
        name=name, type="date", nulls=nulls, distinct=31, min="2024-01-01",
        max="2024-01-31",
    )


@dataclass
class ParsedReport:
    """What a reader sees in the HTML report, cell by cell."""

    title: str = ""
    facts: dict[str, str] = field(default_factory=dict)
    cards: dict[str, str] = field(default_factory=dict)
    header: list[str] = field(default_factory=list)
    rows: list[dict[str, str]] = field(default_factory=list)
    images: list[dict[str, str]] = field(default_factory=list)
    captions: list[str] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    script_tags: int = 0


VOID_TAGS = frozenset({"meta", "link", "br", "hr", "img", "input"})


class _ReportParser(HTMLParser):
    """Collect the text of each element; fail on a tag closed out of order."""

    def __init__(self):
        super().__init__(convert_charrefs=True)
        self.report = ParsedReport()
        self._open: list[tuple[str, dict, list[str]]] = []
        self._cells: list[str] = []
        self._last_term = ""

    def handle_starttag(self, tag, attrs):
        attrs = dict(attrs)
        self.report.script_tags += tag == "script"
        if tag == "img":
            self.report.images.append(attrs)
        if tag == "tr":
            self._cells = []
        if tag not in VOID_TAGS:
            self._open.append((tag, attrs, []))

    def handle_data(self, data):
        for _, _, texts in self._open:
            texts.append(data)

    def handle_endtag(self, tag):
        if tag in VOID_TAGS:
            return
        opened, attrs, texts = self._open.pop()
        assert opened == tag, f"<{opened}> closed by </{tag}>"
        self._record(tag, attrs, " ".join("".join(texts).split()))

    def _record(self, tag, attrs, text):
        report = self.report
        if tag == "h1":
            report.title = text
        elif tag == "dt":
            self._last_term = text
        elif tag == "dd":
            report.facts[self._last_term] = text
        elif tag == "div" and attrs.get("class") == "value":
            report.cards[attrs["id"]] = text
        elif tag in ("td", "th"):
            self._cells.append(text)
        elif tag == "tr" and not report.header:
            report.header = self._cells
        elif tag == "tr":
            report.rows.append(dict(zip(report.header, self._cells, strict=True)))
        elif tag == "figcaption":
            report.captions.append(text)
        elif tag == "p" and any(a.get("id") == "notes" for _, a, _ in self._open):
            report.notes.append(text)


def parse_report(html: bytes) -> ParsedReport:
    """Parse the bytes of an HTML report into what a reader sees."""
    parser = _ReportParser()
    parser.feed(html.decode("utf-8"))
    parser.close()
    assert not parser._open, f"unclosed tags: {[t for t, _, _ in parser._open]}"
    return parser.report


def png_size(data: bytes) -> tuple[int, int]:
    """Check that ``data`` is a PNG image and return its (width, height)."""
    assert data[:8] == PNG_SIGNATURE, "not a PNG: the signature is missing"
    length, kind = struct.unpack(">I4s", data[8:16])
    assert (length, kind) == (13, b"IHDR"), "a PNG must start with its IHDR chunk"
    return struct.unpack(">II", data[16:24])
