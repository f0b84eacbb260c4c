"""Rewriting a text file as UTF-8, in chunks, within the size limit.

DuckDB reads UTF-8 only. The encoding is guessed from a sample (see
:mod:`context_data.encodings`); a UTF-8 file is then checked whole and used
as it is, any other is transcoded chunk by chunk, so a file is never read
into memory whole. A transcoded file can be larger than its source (cp1252
letters such as "é" take two bytes in UTF-8), so its bytes are counted
against the size limit as they are written.
"""

import codecs
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

from shared_kernel.errors import PermanentError

from context_data.config import BYTES_PER_MB
from context_data.encodings import detect_encoding, legacy_encoding
from context_data.limits import check_size
from context_data.progress import DEFAULT_EVERY_S, Progress

SAMPLE_BYTES = 64 * 1024
CHUNK_BYTES = 1024 * 1024
UTF8 = ("utf-8", "utf-8-sig")


@dataclass(frozen=True, slots=True)
class _Conversion:
    raw: Path
    source: str
    max_file_bytes: int
    progress_every_s: float

    def progress(self, what: str) -> Progress:
        total_bytes = self.raw.stat().st_size
        return Progress(what, total_bytes=total_bytes, every_s=self.progress_every_s)


def to_utf8(
    raw: Path,
    work_dir: Path,
    *,
    source: str,
    max_file_bytes: int,
    progress_every_s: float = DEFAULT_EVERY_S,
) -> tuple[Path, str]:
    """Return a UTF-8 copy of ``raw`` (or ``raw`` itself) and its encoding.

    Args:
        raw: The file as fetched.
        work_dir: Where to write the UTF-8 copy when one is needed.
        source: The path or URL shown in messages.
        max_file_bytes: The largest UTF-8 copy accepted.
        progress_every_s: The least time between two progress lines.

    Raises:
        PermanentError: When the file is empty, binary, not a CSV, not valid
            in the encoding it appears to be in, or too large once in UTF-8.
    """
    job = _Conversion(raw, source, max_file_bytes, progress_every_s)
    sample = _read_sample(raw, offset=0)
    encoding = detect_encoding(sample, source=source)
    _check_looks_like_csv(sample.decode(encoding, errors="replace"), source)
    if encoding in UTF8:
        invalid_at = _first_invalid_utf8(job)
        if invalid_at is None:
            return raw, encoding
        # The sample was ASCII but later bytes are not UTF-8: a legacy file.
        window = _read_sample(raw, offset=max(0, invalid_at - SAMPLE_BYTES // 2))
        encoding = legacy_encoding(window, source=source)
    utf8 = work_dir / "utf8.csv"
    _transcode(job, utf8, encoding=encoding)
    return utf8, encoding


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


def _chunks(job: _Conversion, what: str) -> Iterator[tuple[int, bytes]]:
    # Each chunk with the offset it starts at, then b"" at the end of the file.
    progress = job.progress(what)
    offset = 0
    with job.raw.open("rb") as file:
        while chunk := file.read(CHUNK_BYTES):
            yield offset, chunk
            offset += len(chunk)
            progress.advance(offset)
    yield offset, b""


def _first_invalid_utf8(job: _Conversion) -> int | None:
    decoder = codecs.getincrementaldecoder("utf-8")()
    for offset, chunk in _chunks(job, f"Checking that {job.source} is UTF-8"):
        try:
            decoder.decode(chunk, final=not chunk)
        except UnicodeDecodeError as error:
            return offset + error.start
    return None


def _transcode(job: _Conversion, utf8: Path, *, encoding: str) -> None:
    decoder = codecs.getincrementaldecoder(encoding)(errors="strict")
    total_bytes = job.raw.stat().st_size
    written_bytes = 0
    with utf8.open("wb") as dst:
        for offset, chunk in _chunks(job, f"Transcoding {job.source} from {encoding}"):
            try:
                text = decoder.decode(chunk, final=not chunk)
            except UnicodeDecodeError as error:
                raise _invalid(job.source, encoding, offset + error.start) from error
            written_bytes += dst.write(text.encode("utf-8"))
            # The whole copy's size is projected from the part written so far.
            growth = written_bytes / max(offset + len(chunk), 1)
            check_size(
                written_bytes,
                max_file_bytes=job.max_file_bytes,
                shown=job.source,
                counted=f"once converted from {encoding} to UTF-8: about "
                f"{growth * total_bytes / BYTES_PER_MB:.1f} MB in all",
            )


def _invalid(source: str, encoding: str, at_byte: int) -> PermanentError:
    return PermanentError(
        f"{source} is not valid {encoding} near byte {max(at_byte, 0)}; save it "
        f"as UTF-8 and import it again"
    )
