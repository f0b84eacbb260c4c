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

import httpx

from context_data.config import BYTES_PER_MB, DataSettings
from context_data.locations import is_url, redacted
from context_data.ports import LocalCsv
from context_data.transcoding import CHUNK_BYTES, to_utf8
from shared_kernel.errors import PermanentError, TaskError, TransientError


class FileAndHttpSources:
    """Fetches CSV sources from local paths, ``file://`` and http(s) URLs.

    Local paths are read on the machine of the consumer that runs the import.
    """

    def __init__(self, *, work_dir: Path, max_file_bytes: int, timeout_s: float):
        self._work_dir = work_dir
        self._max_file_bytes = max_file_bytes
        self._timeout_s = timeout_s

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
            if urlsplit(source).scheme.lower() in ("http", "https"):
                raw = self._download(source, work_dir / "download", shown=shown)
            else:
                raw = self._local_file(source, shown=shown)
            size_bytes = raw.stat().st_size
            path, encoding = to_utf8(raw, work_dir, source=shown)
            yield LocalCsv(
                path=path, source=shown, encoding=encoding, size_bytes=size_bytes
            )

    def _local_file(self, source: str, *, shown: str) -> Path:
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
        self._check_size(size_bytes, shown)
        return path

    def _download(self, url: str, target: Path, *, shown: str) -> Path:
        # Known limit: the timeout bounds each connect and each read, not the
        # whole download, so a server that trickles bytes can hold an import
        # (fix: a deadline checked in the chunk loop).
        timeout = httpx.Timeout(self._timeout_s)
        try:
            with httpx.stream(
                "GET", url, timeout=timeout, follow_redirects=True
            ) as response:
                self._check_response(response, shown)
                self._save(response, target, shown)
        except (httpx.HTTPError, httpx.InvalidURL) as error:
            raise _http_error(error, shown, self._timeout_s) from error
        return target

    def _check_response(self, response: httpx.Response, shown: str) -> None:
        _check_status(response, shown)
        declared = response.headers.get("content-length", "")
        if declared.isdigit():
            self._check_size(int(declared), shown)
        if response.headers.get("content-type", "").startswith("text/html"):
            raise PermanentError(
                f"{shown} answered with an HTML page, not a CSV file; give the "
                f"address of the CSV file itself (on GitHub, its 'Raw' link)"
            )

    def _save(self, response: httpx.Response, target: Path, shown: str) -> None:
        received_bytes = 0
        with target.open("wb") as file:
            for chunk in response.iter_bytes(CHUNK_BYTES):
                received_bytes += len(chunk)
                self._check_size(received_bytes, shown)
                file.write(chunk)

    def _check_size(self, size_bytes: int, shown: str) -> None:
        if size_bytes > self._max_file_bytes:
            limit_mb = self._max_file_bytes / BYTES_PER_MB
            raise PermanentError(
                f"{shown} is over the {limit_mb:g} MB limit "
                f"({size_bytes / BYTES_PER_MB:.1f} MB or more); split the file "
                f"or raise DATA_MAX_FILE_MB"
            )


def _file_url_path(source: str, shown: str) -> Path:
    parts = urlsplit(source)
    if parts.netloc not in ("", "localhost"):
        raise PermanentError(
            f"{shown} names the host {parts.netloc!r}; a file:// URL must name a "
            f"file on the data consumer's machine, as in file:///srv/data.csv"
        )
    return Path(url2pathname(parts.path))


def _check_status(response: httpx.Response, shown: str) -> None:
    if response.is_success:
        return
    status = response.status_code
    answer = f"{shown} answered {status} {response.reason_phrase}"
    if status in (408, 425, 429) or status >= 500:
        raise TransientError(f"{answer}; the server may recover, so retry later")
    if status in (401, 403):
        raise PermanentError(f"{answer}; give a URL that needs no login")
    raise PermanentError(f"{answer}; check the URL")


def _http_error(error: Exception, shown: str, timeout_s: float) -> TaskError:
    if isinstance(error, httpx.TimeoutException):
        return TransientError(
            f"{shown} did not answer within {timeout_s:g} s; the server is slow "
            f"or down, so retry later or raise DATA_HTTP_TIMEOUT_S"
        )
    if isinstance(error, httpx.NetworkError | httpx.ProtocolError | httpx.ProxyError):
        return TransientError(
            f"{shown} could not be fetched ({error}); check that the server is "
            f"up and reachable, then retry"
        )
    return PermanentError(f"{shown} could not be fetched ({error}); check the URL")
