"""The source adapter: turns a path or a URL into a local UTF-8 CSV file.

Local files are read where they are; http(s) sources are streamed to a
temporary file with the size limit enforced while the bytes arrive. Either
way the file is then checked to be text and transcoded to UTF-8 if needed.
"""

import os
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from urllib.parse import urlsplit
from urllib.request import url2pathname

from shared_kernel.errors import PermanentError

from context_data.config import DataSettings
from context_data.downloads import download
from context_data.limits import check_size
from context_data.locations import is_url, redacted
from context_data.ports import LocalCsv
from context_data.progress import DEFAULT_EVERY_S
from context_data.transcoding import to_utf8


SAMPLE_PREFIX = "sample:"
SAMPLES = Path(__file__).parent / "samples"


class FileAndHttpSources:
    """Fetches CSV sources from local paths, ``file://`` and http(s) URLs.

    Local paths are read on the machine of the consumer that runs the import;
    ``sample:<name>`` names a small dataset shipped with this package. A file
    over ``max_file_bytes``, as fetched or once in UTF-8, is refused; long
    downloads and transcodings log their progress every ``progress_every_s``.
    """

    def __init__(
        self,
        *,
        work_dir: Path,
        max_file_bytes: int,
        timeout_s: float,
        progress_every_s: float = DEFAULT_EVERY_S,
    ):
        self._work_dir = work_dir
        self._max_file_bytes = max_file_bytes
        self._timeout_s = timeout_s
        self._progress_every_s = progress_every_s

    @classmethod
    def from_settings(cls, settings: DataSettings) -> "FileAndHttpSources":
        """Build the adapter, with its temporary files under ``DATA_DIR/incoming``."""
        return cls(
            work_dir=settings.data_dir / "incoming",
            max_file_bytes=settings.max_file_bytes,
            timeout_s=settings.http_timeout_s,
        )

    @contextmanager
    def fetch(self, source: str) -> Iterator[LocalCsv]:
        """Yield ``source`` as a local UTF-8 CSV file; delete temporary copies after.

        Raises:
            PermanentError: When the source is missing, too large, refused by
                its server, or not a text CSV file.
            TransientError: When the server failed, timed out or could not be
                reached: a later try may succeed.
        """
        self._work_dir.mkdir(parents=True, exist_ok=True)
        with tempfile.TemporaryDirectory(dir=self._work_dir, prefix="fetch-") as tmp:
            work_dir = Path(tmp)
            shown = redacted(source)
            raw = self._raw_file(source, work_dir, shown=shown)
            size_bytes = raw.stat().st_size
            path, encoding = to_utf8(
                raw,
                work_dir,
                source=shown,
                max_file_bytes=self._max_file_bytes,
                progress_every_s=self._progress_every_s,
            )
            yield LocalCsv(
                path=path, source=shown, encoding=encoding, size_bytes=size_bytes
            )

    def _raw_file(self, source: str, work_dir: Path, *, shown: str) -> Path:
        if urlsplit(source).scheme.lower() not in ("http", "https"):
            return self._local_file(source, shown=shown)
        raw = work_dir / "download"
        download(
            source,
            raw,
            shown=shown,
            timeout_s=self._timeout_s,
            max_file_bytes=self._max_file_bytes,
            progress_every_s=self._progress_every_s,
        )
        return raw

    def _local_file(self, source: str, *, shown: str) -> Path:
        if source.startswith(SAMPLE_PREFIX):
            return _sample(source)
        path = _file_url_path(source, shown) if is_url(source) else Path(source)
        path = path.expanduser()
        try:
            size_bytes = path.stat().st_size
        except FileNotFoundError:
            raise PermanentError(
                f"{shown} does not exist on the data consumer's machine; check "
                f"the path, or give an http(s) URL"
            ) from None
        if not path.is_file():
            raise PermanentError(f"{shown} is not a file; give the path of a CSV file")
        if not os.access(path, os.R_OK):
            raise PermanentError(
                f"{shown} cannot be read by the data consumer; allow its user "
                f"to read the file"
            )
        check_size(size_bytes, max_file_bytes=self._max_file_bytes, shown=shown)
        return path


def _sample(source: str) -> Path:
    """Return the file of a ``sample:<name>`` source shipped with this package."""
    name = source.removeprefix(SAMPLE_PREFIX)
    path = SAMPLES / f"{name}.csv"
    if not name.isidentifier() or not path.is_file():
        known = ", ".join(sorted(f"sample:{p.stem}" for p in SAMPLES.glob("*.csv")))
        raise PermanentError(f"there is no sample dataset {source!r}; known: {known}")
    return path


def _file_url_path(source: str, shown: str) -> Path:
    parts = urlsplit(source)
    if parts.netloc not in ("", "localhost"):
        raise PermanentError(
            f"{shown} names the host {parts.netloc!r}; a file:// URL must name a "
            f"file on the data consumer's machine, as in file:///srv/data.csv"
        )
    return Path(url2pathname(parts.path))
