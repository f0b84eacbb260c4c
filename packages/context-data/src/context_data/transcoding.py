"""Telling which encoding a text file is in, and rewriting it as UTF-8.

DuckDB reads UTF-8 only, while CSV files come in whatever their program wrote:
UTF-8 with or without a byte order mark, UTF-16 from spreadsheets, cp1252 or
latin-1 from older Windows tools. The encoding is guessed from a sample, then
the file is transcoded in chunks, so a file is never read into memory whole.
"""

import codecs
from pathlib import Path

import charset_normalizer
from shared_kernel.errors import PermanentError

SAMPLE_BYTES = 64 * 1024
CHUNK_BYTES = 1024 * 1024
WESTERN = "cp1252"
UTF8 = ("utf-8", "utf-8-sig")

# UTF-32 first: its little-endian mark starts with the UTF-16 one.
_BOMS = (
    (codecs.BOM_UTF32_LE, "utf-32"),
    (codecs.BOM_UTF32_BE, "utf-32"),
    (codecs.BOM_UTF8, "utf-8-sig"),
    (codecs.BOM_UTF16_LE, "utf-16"),
    (codecs.BOM_UTF16_BE, "utf-16"),
)


def to_utf8(raw: Path, work_dir: Path, *, source: str) -> tuple[Path, str]:
    """Return a UTF-8 copy of ``raw`` (or ``raw`` itself) and its encoding.

    Args:
        raw: The file as fetched.
        work_dir: Where to write the UTF-8 copy when one is needed.
        source: The path or URL shown in error messages.

    Raises:
        PermanentError: When the file is empty, binary, not a CSV, or not
            valid in the encoding it appears to be in.
    """
    sample = _read_sample(raw, offset=0)
    encoding = detect_encoding(sample, source=source)
    _check_looks_like_csv(sample.decode(encoding, errors="replace"), source)
    if encoding in UTF8:
        invalid_at = _first_invalid_utf8(raw)
        if invalid_at is None:
            return raw, encoding
        # The sample was ASCII but later bytes are not UTF-8: a legacy file.
        window = _read_sample(raw, offset=max(0, invalid_at - SAMPLE_BYTES // 2))
        encoding = _legacy_encoding(window, source=source)
    utf8 = work_dir / "utf8.csv"
    _transcode(raw, utf8, encoding=encoding, source=source)
    return utf8, encoding


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
        return _legacy_encoding(sample, source=source)
    return "utf-8"


def _legacy_encoding(sample: bytes, *, source: str) -> str:
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


def _check_looks_like_csv(text: str, source: str) -> None:
    start = text.lstrip("\ufeff \t\r\n")
    if not start:
        raise PermanentError(
            f"{source} is empty; give a CSV file with a header row and data rows"
        )
    if start[0] in "<{[":
        raise PermanentError(
            f"{source} looks like HTML, XML or JSON, not a CSV file; give the "
            f"address of the CSV file itself (on GitHub, its 'Raw' link)"
        )


def _read_sample(path: Path, *, offset: int) -> bytes:
    with path.open("rb") as file:
        file.seek(offset)
        sample = file.read(SAMPLE_BYTES)
    # Start and end on whole lines, so no multi-byte character is cut in half.
    if len(sample) == SAMPLE_BYTES and b"\n" in sample:
        sample = sample[: sample.rindex(b"\n") + 1]
    if offset > 0 and b"\n" in sample:
        sample = sample[sample.index(b"\n") + 1 :]
    return sample


def _first_invalid_utf8(path: Path) -> int | None:
    decoder = codecs.getincrementaldecoder("utf-8")()
    offset = 0
    with path.open("rb") as file:
        while chunk := file.read(CHUNK_BYTES):
            try:
                decoder.decode(chunk)
            except UnicodeDecodeError as error:
                return offset + error.start
            offset += len(chunk)
    try:
        decoder.decode(b"", final=True)
    except UnicodeDecodeError:
        return offset
    return None


def _transcode(raw: Path, utf8: Path, *, encoding: str, source: str) -> None:
    decoder = codecs.getincrementaldecoder(encoding)(errors="strict")
    offset = 0
    with raw.open("rb") as src, utf8.open("w", encoding="utf-8", newline="") as dst:
        while chunk := src.read(CHUNK_BYTES):
            try:
                dst.write(decoder.decode(chunk))
            except UnicodeDecodeError as error:
                raise PermanentError(
                    f"{source} is not valid {encoding} near byte "
                    f"{offset + max(error.start, 0)}; save it as UTF-8 and import "
                    f"it again"
                ) from error
            offset += len(chunk)
        dst.write(decoder.decode(b"", final=True))


def _not_text(source: str) -> PermanentError:
    return PermanentError(
        f"{source} is not a text CSV file (it holds binary data); export the "
        f"data as CSV and import that file instead"
    )
