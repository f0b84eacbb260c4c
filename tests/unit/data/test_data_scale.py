"""Use case: a user imports a large file, and every row and type comes through.

Speed is measured by the benchmark, not asserted here. Memory is: the data
context streams files, so an import takes no more memory for a larger file
than DuckDB's own limit and some working buffers.
"""

import json
import subprocess
import sys

import duckdb
import pytest

ROWS = 1_000_000

# Runs in its own process, so that its peak memory is the import's alone. The
# peak is read twice: once the source is fetched (downloaded or transcoded),
# and once it is stored and profiled by DuckDB.
IMPORT_SCRIPT = """
import contextlib, json, resource, sys, time
from datetime import UTC, datetime
from pathlib import Path
from context_data.services import import_dataset
from context_data.sources import FileAndHttpSources
from context_data.store import DuckDbStore
from shared_kernel.contracts import ImportDataset

def peak_mb():
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024

class MeasuredSources(FileAndHttpSources):
    @contextlib.contextmanager
    def fetch(self, source):
        with super().fetch(source) as csv:
            self.fetched_mb = peak_mb()
            yield csv

data_dir, source, memory_mb = Path(sys.argv[1]), sys.argv[2], int(sys.argv[3])
sources = MeasuredSources(
    work_dir=data_dir / "incoming", max_file_bytes=2**30, timeout_s=5
)
store = DuckDbStore(data_dir, memory_limit_mb=memory_mb)
before_mb = peak_mb()
started = time.perf_counter()
event = import_dataset(
    ImportDataset(source=source), dataset_id="big", sources=sources,
    store=store, now=lambda: datetime.now(UTC),
)
print(json.dumps({
    "seconds": time.perf_counter() - started,
    "peak_mb": peak_mb(),
    "fetch_grown_mb": sources.fetched_mb - before_mb,
    "grown_mb": peak_mb() - before_mb,
    "rows": event.profile.rows,
    "types": [column.type for column in event.profile.columns],
}))
"""


def write_big_csv(path, encoding="UTF8"):
    query = f"""
        COPY (
            SELECT i AS id, (i * 7919) % 100000 / 100.0 AS amount,
                random() AS ratio, i % 50 AS qty,
                ['Paris', 'Lyon', 'Nîmes', 'Orléans'][1 + i % 4] AS city,
                'name' || (i * 31) % 200000 AS name,
                DATE '2020-01-01' + (i % 1500)::INTEGER AS day,
                TIMESTAMP '2024-01-01' + to_seconds(i) AS seen_at,
                i % 3 = 0 AS flag, 'C' || i % 977 AS code
            FROM range({ROWS}) AS t(i)
        ) TO '{path}' (HEADER, DELIMITER ',')
    """
    duckdb.execute(query)


def import_in_a_process(tmp_path, path, *, memory_mb=256) -> dict:
    data_dir = str(tmp_path / "data")
    done = subprocess.run(
        [sys.executable, "-c", IMPORT_SCRIPT, data_dir, str(path), f"{memory_mb}"],
        capture_output=True,
        text=True,
        check=True,
        timeout=120,
    )
    return json.loads(done.stdout)


def write_accented_csv(path, *, rows, encoding):
    cities = ("Paris", "Orléans", "Nîmes", "Besançon", "Lyon")
    with path.open("w", encoding=encoding, newline="") as file:
        file.write("id,city,amount,qty,code,name,ratio,flag,day,note\n")
        for i in range(rows):
            file.write(
                f"{i},{cities[i % 5]},{i * 7919 % 100000 / 100},{i % 50},"
                f"C{i % 977},name{i * 31 % 200000},{i % 1000 / 1000},"
                f"{i % 3 == 0},2020-01-{1 + i % 28:02d},été {i % 13}\n"
            )


@pytest.mark.slow
def test_a_million_row_file_imports_with_every_column_typed(tmp_path):
    path = tmp_path / "big.csv"
    write_big_csv(path)

    result = import_in_a_process(tmp_path, path)

    assert result["rows"] == ROWS
    expected_types = "integer float float integer text text date timestamp boolean text"
    assert result["types"] == expected_types.split()
    print(f"1M rows: {result['seconds']:.1f} s, peak {result['peak_mb']:.0f} MB")


@pytest.mark.slow
@pytest.mark.parametrize("encoding", ["utf-8", "cp1252"])
def test_memory_stays_bounded_however_large_the_file(tmp_path, encoding):
    # 800 000 rows make a 55 MB file; held as Python lists of strings they
    # would take about 650 MB. Checking or transcoding it goes by 1 MB chunks,
    # and DuckDB is held to 64 MB here.
    path = tmp_path / "accented.csv"
    write_accented_csv(path, rows=800_000, encoding=encoding)
    file_mb = path.stat().st_size / 1024 / 1024

    result = import_in_a_process(tmp_path, path, memory_mb=64)

    assert result["rows"] == 800_000
    fetched, imported = result["fetch_grown_mb"], result["grown_mb"]
    grew = f"a {file_mb:.0f} MB file grew the process by"
    assert fetched < 16, f"fetching {grew} {fetched:.0f} MB"
    assert imported < 64 + 96, f"importing {grew} {imported:.0f} MB"
