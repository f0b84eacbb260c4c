"""Streaming an http(s) source to a local file, within a size limit.

The response is written chunk by chunk, and the size limit is checked both
against the announced Content-Length and while the bytes arrive, so neither a
large file nor a lying server can fill the disk or the memory. Failures are
sorted for the broker: what a retry may cure is a :class:`TransientError`,
the rest a :class:`PermanentError`.
"""

from pathlib import Path

import httpx
from shared_kernel.errors import PermanentError, TaskError, TransientError

from context_data.config import BYTES_PER_MB

CHUNK_BYTES = 1024 * 1024


def download(
    url: str, target: Path, *, shown: str, timeout_s: float, max_file_bytes: int
) -> None:
    """Save the body of a GET of ``url`` into ``target``.

    Args:
        url: The http(s) URL to fetch; redirects are followed.
        target: The file to write.
        shown: The URL as error messages show it (without its password).
        timeout_s: How long to wait to connect, and for each read.
        max_file_bytes: The largest body accepted.

    Raises:
        PermanentError: When the URL is wrong, refused, too large or a web page.
        TransientError: When the server failed, was slow or could not be reached.
    """
    # Known limit: the timeout bounds each connect and each read, not the
    # whole download, so a server that trickles bytes can hold an import
    # (fix: a total deadline checked in the chunk loop).
    timeout = httpx.Timeout(timeout_s)
    try:
        with httpx.stream("GET", url, timeout=timeout, follow_redirects=True) as answer:
            _check_answer(answer, shown, max_file_bytes)
            received_bytes = 0
            with target.open("wb") as file:
                for chunk in answer.iter_bytes(CHUNK_BYTES):
                    received_bytes += len(chunk)
                    check_size(
                        received_bytes, max_file_bytes=max_file_bytes, shown=shown
                    )
                    file.write(chunk)
    except (httpx.HTTPError, httpx.InvalidURL) as error:
        raise _task_error(error, shown, timeout_s) from error


def check_size(size_bytes: int, *, max_file_bytes: int, shown: str) -> None:
    """Refuse a source of ``size_bytes`` when it is over ``max_file_bytes``.

    Raises:
        PermanentError: When the source is too large.
    """
    if size_bytes > max_file_bytes:
        raise PermanentError(
            f"{shown} is over the {max_file_bytes / BYTES_PER_MB:g} MB limit "
            f"({size_bytes / BYTES_PER_MB:.1f} MB or more); split the file "
            f"or raise DATA_MAX_FILE_MB"
        )


def _check_answer(answer: httpx.Response, shown: str, max_file_bytes: int) -> None:
    _check_status(answer, shown)
    declared = answer.headers.get("content-length", "")
    if declared.isdigit():
        check_size(int(declared), max_file_bytes=max_file_bytes, shown=shown)
    if answer.headers.get("content-type", "").startswith("text/html"):
        raise PermanentError(
            f"{shown} answered with an HTML page, not a CSV file; give the "
            f"address of the CSV file itself (on GitHub, its 'Raw' link)"
        )


def _check_status(answer: httpx.Response, shown: str) -> None:
    if answer.is_success:
        return
    status = answer.status_code
    said = f"{shown} answered {status} {answer.reason_phrase}"
    if status in (408, 425, 429) or status >= 500:
        raise TransientError(f"{said}; the server may recover, so retry later")
    if status in (401, 403):
        raise PermanentError(f"{said}; give a URL that needs no login")
    raise PermanentError(f"{said}; check the URL")


def _task_error(error: Exception, shown: str, timeout_s: float) -> TaskError:
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
