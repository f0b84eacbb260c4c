"""What a source string says about itself: its name, and how to show it safely.

A source is a filesystem path, a ``file://`` URL or an http(s) URL. These
functions only read the string: nothing here touches the disk or the network.
"""

from pathlib import PurePath
from urllib.parse import unquote, urlsplit, urlunsplit

MAX_NAME_CHARS = 200


def is_url(source: str) -> bool:
    """Return whether ``source`` is a URL (it has a ``scheme://``) and not a path."""
    return "://" in source


def default_name(source: str) -> str:
    """Return the dataset name a source gets when none is given: its file's stem.

    ``https://host/data/cars.csv?v=2`` and ``/srv/cars.csv`` are both named
    ``cars``; a URL with no file in its path is named after its host.
    """
    if not is_url(source):
        return _shortened(PurePath(source.removeprefix("sample:")).stem) or "dataset"
    parts = urlsplit(source)
    stem = PurePath(unquote(parts.path)).stem
    return _shortened(stem or parts.hostname or "") or "dataset"


def redacted(source: str) -> str:
    """Return ``source`` with any password in a URL replaced by ``***``.

    Use it wherever a source is logged, shown in an error or sent on.
    """
    if not is_url(source):
        return source
    parts = urlsplit(source)
    if parts.password is None:
        return source
    host = parts.netloc.rpartition("@")[2]
    netloc = f"{parts.username}:***@{host}"
    return urlunsplit(parts._replace(netloc=netloc))


def _shortened(name: str) -> str:
    return name.strip()[:MAX_NAME_CHARS].strip()
