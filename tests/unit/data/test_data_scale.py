"""Use case: a user imports a large file, and every row and type comes through.

Speed and peak memory are measured by the benchmark, not asserted here.
"""

import json
import subprocess
import sys

import duckdb
import pytest

ROWS = 1_000_000

# Runs in its own process, so that its peak memory is the import's alone.
IMPORT_SCRIPT = """
import json, resource, sys, time
from datetime import UTC, datetime
from pathlib import Path
from context_data.services import import_dataset
from context_data.sources import FileAndHttpSources
from context_data.store import DuckDbStore
from shared_kernel.contracts import ImportDataset

data_dir, source = Path(sys.argv[1]), sys.argv[2]
sources = FileAndHttpSources(
    work_dir=data_dir / "incoming", max_file_bytes=2**30, timeout_s=5
)
started = time.perf_counter()
event = import_dataset(
    ImportDataset(source=source), dataset_id="big", sources=sources,
    store=DuckDbStore(data_dir), now=lambda: datetime.now(UTC),
)
print(json.dumps({
    "seconds": time.perf_counter() - started,
    "peak_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024,
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


@pytest.mark.slow
def test_a_million_row_file_imports_with_every_column_typed(tmp_path):
    path = tmp_path / "big.csv"
    write_big_csv(path)

    done = subprocess.run(
        [sys.executable, "-c", IMPORT_SCRIPT, str(tmp_path / "data"), str(path)],
        capture_output=True,
        text=True,
        check=True,
        timeout=120,
    )

    result = json.loads(done.stdout)
    assert result["rows"] == ROWS
    expected_types = "integer float float integer text text date timestamp boolean text"
    assert result["types"] == expected_types.split()
    print(f"1M rows: {result['seconds']:.1f} s, peak {result['peak_mb']:.0f} MB")
