"""Use case: an operator follows a long import in the data context's log.

Progress lines come every ``progress_every_s``; here it is zero, so that a
file of a few megabytes makes them, as a large file would with the default.
"""

import pytest
from context_data.progress import DEFAULT_EVERY_S
from context_data.sources import FileAndHttpSources
from context_data.store import DuckDbStore
from loguru import logger

ROWS = 300_000
PROGRESS_STARTS = ("Downloading", "Checking", "Transcoding", "Loading", "Profiling")


def many_rows(rows=ROWS) -> str:
    lines = (f"{i},Orléans {i % 7},{i / 100}\n" for i in range(rows))
    return "id,city,amount\n" + "".join(lines)


@pytest.fixture
def progress_every_s() -> float:
    """No wait between progress lines: every chunk and every poll logs one."""
    return 0.0


@pytest.fixture
def sources(data_dir, progress_every_s) -> FileAndHttpSources:
    """The source adapter with room for a few megabytes."""
    return FileAndHttpSources(
        work_dir=data_dir / "incoming",
        max_file_bytes=64 * 1024 * 1024,
        timeout_s=5,
        progress_every_s=progress_every_s,
    )


@pytest.fixture
def store(data_dir, progress_every_s) -> DuckDbStore:
    """The DuckDB store, polling the load every ``progress_every_s``."""
    return DuckDbStore(data_dir, progress_every_s=progress_every_s)


@pytest.fixture
def logged():
    """The records logged during the test, in order."""
    records = []
    sink = logger.add(lambda message: records.append(message.record), level="DEBUG")
    yield records
    logger.remove(sink)


def lines_starting(records, start: str) -> list[str]:
    return [r["message"] for r in records if r["message"].startswith(start)]


def test_long_download_logs_how_much_has_arrived(
    http_server, write_file, import_source, logged
):
    path = write_file("www/big.csv", many_rows())
    size = f"{path.stat().st_size / 1024 / 1024:.1f} MB"
    url = http_server.url("big.csv")

    import_source(url)

    lines = lines_starting(logged, f"Downloading {url}: ")
    assert len(lines) >= 3
    assert lines[0].startswith(f"Downloading {url}: 1.0 MB of {size} (")
    assert lines[-1].startswith(f"Downloading {url}: {size} of {size} (100%)")


@pytest.mark.parametrize(
    ("encoding", "step"),
    [
        ("utf-8", "Checking that {} is UTF-8: "),
        ("cp1252", "Transcoding {} from cp1252: "),
    ],
)
def test_long_encoding_check_or_transcoding_logs_how_much_is_done(
    encoding, step, write_file, import_source, logged
):
    path = write_file("big.csv", many_rows().encode(encoding))

    import_source(path)

    lines = lines_starting(logged, step.format(path))
    assert len(lines) >= 3
    assert " MB of " in lines[0]


def test_long_load_logs_its_progress_with_the_dataset_id(
    write_file, import_source, logged
):
    path = write_file("big.csv", many_rows())

    import_source(path, dataset_id="big-load")

    loading = [r for r in logged if r["message"].startswith(f"Loading {path}: ")]
    assert loading, "no progress line while DuckDB loaded the file"
    # Logged from a watching thread, yet tied to the import like its other lines.
    assert {r["extra"].get("dataset_id") for r in loading} == {"big-load"}


@pytest.mark.parametrize("progress_every_s", [DEFAULT_EVERY_S])
def test_small_file_is_imported_without_progress_lines(
    write_file, import_source, logged
):
    path = write_file("small.csv", many_rows(rows=100))

    import_source(path)

    messages = [r["message"] for r in logged]
    assert not [m for m in messages if m.startswith(PROGRESS_STARTS)]
    assert any(m.startswith("Import ds1: 100 rows loaded") for m in messages)
