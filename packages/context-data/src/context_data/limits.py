"""The size limit on sources: one check, one message, wherever bytes are counted.

A source is measured before it is read when its size is known (a local file,
a download's Content-Length), and counted while it arrives or is rewritten
otherwise (a download without a Content-Length, a file transcoded to UTF-8),
so an import stops as soon as a file is known to be too large.
"""

from shared_kernel.errors import PermanentError

from context_data.config import BYTES_PER_MB


def check_size(
    size_bytes: int, *, max_file_bytes: int, shown: str, counted: str = ""
) -> None:
    """Refuse a source of ``size_bytes`` when it is over ``max_file_bytes``.

    Args:
        size_bytes: The size measured, or counted so far.
        max_file_bytes: The largest size accepted (``DATA_MAX_FILE_MB``).
        shown: The path or URL, as messages show it.
        counted: How ``size_bytes`` was counted, when it is not the whole
            file's size: it reads "more than the limit <counted>".

    Raises:
        PermanentError: When the source is too large; never retried.
    """
    if size_bytes <= max_file_bytes:
        return
    limit = f"{max_file_bytes / BYTES_PER_MB:g} MB"
    size = f"more than {limit} {counted}" if counted else _mb(size_bytes)
    raise PermanentError(
        f"{shown} is over the {limit} limit ({size}); raise DATA_MAX_FILE_MB "
        f"above that size, or split the file into smaller ones"
    )


def _mb(size_bytes: int) -> str:
    # Bytes as well: near the limit, a rounded size would read as the limit.
    return f"{size_bytes / BYTES_PER_MB:.1f} MB, {size_bytes} bytes"
