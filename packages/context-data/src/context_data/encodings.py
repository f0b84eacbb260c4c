"""Telling which encoding a text file is in, from a sample of its bytes.

CSV files come in whatever their program wrote: UTF-8 with or without a byte
order mark, UTF-16 from spreadsheets, cp1252 or latin-1 from older Windows
tools. A byte order mark settles it; otherwise the sample is tried as UTF-8,
then as UTF-16 without a mark, then given to ``charset_normalizer``.
"""

import codecs

import charset_normalizer
from shared_kernel.errors import PermanentError

WESTERN = "cp1252"

# UTF-32 first: its little-endian mark starts with the UTF-16 one.
_BOMS = (
    (codecs.BOM_UTF32_LE, "utf-32"),
    (codecs.BOM_UTF32_BE, "utf-32"),
    (codecs.BOM_UTF8, "utf-8-sig"),
    (codecs.BOM_UTF16_LE, "utf-16"),
    (codecs.BOM_UTF16_BE, "utf-16"),
)


def detect_encoding(sample: bytes, *, source: str) -> str:
    """Return the Python codec name that ``sample`` is most likely written in.

    Raises:
        PermanentError: When the sample is binary data rather than text.
    """
    for bom, encoding in _BOMS:
        if sample.startswith(bom):
            return encoding
    if b"\x00" in sample:
        return _utf16_without_bom(sample, source=source)
    try:
        sample.decode("utf-8")
    except UnicodeDecodeError:
        return legacy_encoding(sample, source=source)
    return "utf-8"


def legacy_encoding(sample: bytes, *, source: str) -> str:
    """Return the single-byte or legacy code page that ``sample`` reads best in.

    Raises:
        PermanentError: When no encoding reads the sample as text.
    """
    matches = charset_normalizer.from_bytes(sample)
    best = matches.best()
    if best is None:
        raise _not_text(source)
    # A short sample cannot tell the Western code pages apart (cp1250, cp775
    # and cp1252 read "Orléans" alike), and cp1252 is the one most CSV files
    # in them were written in, so it wins whenever it reads the sample well.
    for match in matches:
        close = match.chaos <= best.chaos + 0.1
        if close and WESTERN in match.could_be_from_charset:
            return WESTERN
    return codecs.lookup(best.encoding).name


def _not_text(source: str) -> PermanentError:
    return PermanentError(
        f"{source} is not a text CSV file (it holds binary data); export the "
        f"data as CSV and import that file instead"
    )


def _utf16_without_bom(sample: bytes, *, source: str) -> str:
    # ASCII characters in UTF-16 have a NUL high byte: every odd byte in
    # little-endian text, every even byte in big-endian. Binary data has its
    # NULs anywhere.
    even, odd = sample[0::2], sample[1::2]
    if odd.count(0) >= len(odd) // 4 and even.count(0) == 0:
        return "utf-16-le"
    if even.count(0) >= len(even) // 4 and odd.count(0) == 0:
        return "utf-16-be"
    raise _not_text(source)
