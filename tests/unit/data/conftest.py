"""Real adapters for the data context's tests, and a real HTTP server.

``http_server`` serves the files of a folder from a thread on a free port, and
answers a few special paths as a failing server would: ``/status/<code>``
answers that status, ``/slow/<seconds>/<file>`` waits before answering,
``/unsized/<file>`` streams a file without a Content-Length, and ``/html`` is
a web page.
"""

import contextlib
import threading
import time
from collections.abc import Callable, Iterator
from datetime import UTC, datetime
from http import HTTPStatus
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import duckdb
import pytest
from context_data.services import import_dataset
from context_data.sources import FileAndHttpSources
from context_data.store import DuckDbStore
from shared_kernel.contracts import DatasetImported, ImportDataset

HTTP_TIMEOUT_S = 0.5
IMPORTED_AT = datetime(2025, 3, 1, 12, 0, tzinfo=UTC)


class HttpServer:
    """A threaded HTTP server over ``root``; ``url(path)`` gives an address."""

    def __init__(self, root: Path):
        self.root = root
        handler = type("Handler", (_Handler,), {"root": root})
        self._server = ThreadingHTTPServer(("127.0.0.1", 0), handler)
        self._server.daemon_threads = True
        self._thread = threading.Thread(
            target=self._server.serve_forever, args=(0.05,), daemon=True
        )

    def url(self, path: str) -> str:
        """Return the URL of ``path`` on this server."""
        return f"http://127.0.0.1:{self._server.server_port}/{path.lstrip('/')}"

    def __enter__(self) -> "HttpServer":
        self._thread.start()
        return self

    def __exit__(self, *exc_info) -> None:
        self._server.shutdown()
        self._server.server_close()


class _Handler(BaseHTTPRequestHandler):
    root: Path

    def do_GET(self) -> None:
        path = self.path.partition("?")[0].lstrip("/")
        kind, _, rest = path.partition("/")
        if kind == "status":
            self._answer(int(rest), b"failing on purpose\n", "text/plain")
        elif kind == "slow":
            seconds, _, name = rest.partition("/")
            time.sleep(float(seconds))
            self._answer(200, (self.root / name).read_bytes(), "text/csv")
        elif kind == "unsized":
            self._answer(200, (self.root / rest).read_bytes(), "text/csv", sized=False)
        elif kind == "html":
            self._answer(200, b"<!doctype html><p>Sign in</p>", "text/html")
        elif (self.root / path).is_file():
            self._answer(200, (self.root / path).read_bytes(), "text/csv")
        else:
            self._answer(404, b"no such file\n", "text/plain")

    def _answer(self, status: int, body: bytes, content_type: str, *, sized=True):
        self.send_response(status, HTTPStatus(status).phrase)
        self.send_header("Content-Type", content_type)
        if sized:
            self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        # The client may have given up waiting, as the timeout tests make it do.
        with contextlib.suppress(BrokenPipeError, ConnectionResetError):
            self.wfile.write(body)

    def log_message(self, format, *args) -> None:
        pass


@pytest.fixture
def http_server(tmp_path) -> Iterator[HttpServer]:
    """A real HTTP server serving the files of ``tmp_path / "www"``."""
    root = tmp_path / "www"
    root.mkdir()
    with HttpServer(root) as server:
        yield server


@pytest.fixture
def data_dir(tmp_path) -> Path:
    """The DATA_DIR of the test: where datasets are stored."""
    return tmp_path / "data"


@pytest.fixture
def http_timeout_s() -> float:
    """The HTTP timeout of the ``sources`` fixture: short, so tests stay quick."""
    return HTTP_TIMEOUT_S


@pytest.fixture
def sources(data_dir, http_timeout_s) -> FileAndHttpSources:
    """The real source adapter, with a 1 MB limit and a short HTTP timeout."""
    return FileAndHttpSources(
        work_dir=data_dir / "incoming",
        max_file_bytes=1024 * 1024,
        timeout_s=http_timeout_s,
    )


@pytest.fixture
def store(data_dir) -> DuckDbStore:
    """The real DuckDB store under the test's DATA_DIR."""
    return DuckDbStore(data_dir)


@pytest.fixture
def import_source(sources, store) -> Callable[..., DatasetImported]:
    """Import a path or URL with the real adapters; return the event."""

    def run(source: str | Path, *, dataset_id="ds1", name=None) -> DatasetImported:
        command = ImportDataset(source=str(source), dataset_name=name)
        return import_dataset(
            command,
            dataset_id=dataset_id,
            sources=sources,
            store=store,
            now=lambda: IMPORTED_AT,
        )

    return run


@pytest.fixture
def query(store) -> Callable[[str, str], list[tuple]]:
    """Run a read-only SQL query on a stored dataset; return its rows."""

    def run(dataset_id: str, sql: str) -> list[tuple]:
        with duckdb.connect(store.path_of(dataset_id), read_only=True) as con:
            return con.execute(sql).fetchall()

    return run


@pytest.fixture
def write_file(tmp_path) -> Callable[[str, str | bytes], Path]:
    """Write a file in ``tmp_path``: text as UTF-8, or bytes as they are."""

    def write(name: str, content: str | bytes) -> Path:
        path = tmp_path / name
        data = content.encode("utf-8") if isinstance(content, str) else content
        path.write_bytes(data)
        return path

    return write
