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

from context_data.limits import check_size
from context_data.progress import DEFAULT_EVERY_S, Progress

CHUNK_BYTES = 1024 * 1024


def download(
    url: str,
    target: Path,
    *,
    shown: str,
    timeout_s: float,
    max_file_bytes: int,
    progress_every_s: float = DEFAULT_EVERY_S,
) -> None:
    """Save the body of a GET of ``url`` into ``target``.

    Args:
        url: The http(s) URL to fetch; redirects are followed.
        target: The file to write.
        shown: The URL as error messages show it (without its password).
        timeout_s: How long to wait to connect, and for each read.
        max_file_bytes: The largest body accepted.
        progress_every_s: The least time between two progress lines.

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
            declared_bytes = _check_answer(answer, shown, max_file_bytes)
            progress = Progress(
                f"Downloading {shown}",
                total_bytes=declared_bytes,
                every_s=progress_every_s,
            )
            _save(answer, target, shown, max_file_bytes, progress)
    except (httpx.HTTPError, httpx.InvalidURL) as error:
        raise _task_error(error, shown, timeout_s) from error


def _save(
    answer: httpx.Response,
    target: Path,
    shown: str,
    max_file_bytes: int,
    progress: Progress,
) -> None:
    # The body is counted as it arrives: a server may send no Content-Length,
    # or a compressed body that grows when decoded.
    received_bytes = 0
    with target.open("wb") as file:
        for chunk in answer.iter_bytes(CHUNK_BYTES):
            received_bytes += len(chunk)
            check_size(
                received_bytes,
                max_file_bytes=max_file_bytes,
                shown=shown,
                counted="arrived before the download was stopped",
            )
            file.write(chunk)
            progress.advance(received_bytes)


def _check_answer(
    answer: httpx.Response, shown: str, max_file_bytes: int
) -> int | None:
    # Returns the size of the body once decoded, when the answer tells it.
    _check_status(answer, shown)
    declared = answer.headers.get("content-length", "")
    declared_bytes = int(declared) if declared.isdigit() else None
    if declared_bytes is not None:
        check_size(declared_bytes, max_file_bytes=max_file_bytes, shown=shown)
    if answer.headers.get("content-type", "").startswith("text/html"):
        raise PermanentError(
            f"{shown} answered with an HTML page, not a CSV file; give the "
            f"address of the CSV file itself (on GitHub, its 'Raw' link)"
        )
    if answer.headers.get("content-encoding", "identity") != "identity":
        return None  # The Content-Length counts the compressed bytes.
    return declared_bytes


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
