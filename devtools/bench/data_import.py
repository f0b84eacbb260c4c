"""Benchmark: how fast the data context imports a large CSV, and in what memory.

``hatch run python -m devtools.bench.data_import`` writes CSV files of mixed
numeric and text columns, then imports each one in a fresh process through the
same service and adapters as the data consumer, and prints the import's wall
time and the peak resident memory of that process. Sizes of different orders
show whether memory grows with the file (it should not)::

    hatch run python -m devtools.bench.data_import --rows 1000000 3000000

Writing the file is not timed. The import process reports its own time and
peak memory, so neither the parent nor earlier children are counted.
"""

import argparse
import json
import resource
import shutil
import subprocess
import sys
import time
from datetime import UTC, datetime
from pathlib import Path

import duckdb

ROOT = Path(__file__).resolve().parents[2]
MODULE = "devtools.bench.data_import"
BYTES_PER_MB = 1024 * 1024
DEFAULT_ROWS = (1_000_000,)
DEFAULT_COLUMNS = 10
TIMEOUT_S = 600
TEXTS = ("'north'", "'south'", "'east'", "'west'", "'Orléans'", "'Nîmes'")


def measure_import(rows: int, columns: int, work_dir: Path) -> dict:
    """Import a generated CSV of ``rows`` x ``columns`` and measure the import.

    Args:
        rows: Data rows in the file (the header comes on top).
        columns: Columns in the file, two or more: an id, then floats,
            texts and integers in turn.
        work_dir: Where the CSV file and the dataset store are written.

    Returns:
        ``seconds`` of wall time of the import, ``peak_rss_mb`` of the process
        that ran it, and the ``rows`` the import reported.

    Raises:
        ValueError: When ``rows`` or ``columns`` is too small.
        RuntimeError: When the import failed; the message holds its output.
    """
    if rows < 1 or columns < 2:
        raise ValueError(
            f"a benchmark needs 1 row or more and 2 columns or more, got "
            f"rows={rows}, columns={columns}"
        )
    work_dir.mkdir(parents=True, exist_ok=True)
    path = work_dir / f"bench-{rows}x{columns}.csv"
    write_csv(path, rows=rows, columns=columns)

    data_dir = work_dir / f"data-{rows}x{columns}"
    try:
        done = _import_in_child(path, data_dir)
    finally:
        path.unlink()
        shutil.rmtree(data_dir, ignore_errors=True)

    if done.returncode != 0:
        raise RuntimeError(
            f"the import of {path} failed with exit code {done.returncode}:\n"
            f"{done.stderr[-4000:]}"
        )
    return json.loads(done.stdout)


def _import_in_child(csv: Path, data_dir: Path) -> subprocess.CompletedProcess:
    limit_mb = max(1024, csv.stat().st_size // BYTES_PER_MB + 1)
    child = [sys.executable, "-m", MODULE, "--child", str(csv), str(data_dir)]
    return subprocess.run(
        [*child, str(limit_mb)],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=TIMEOUT_S,
    )


def write_csv(path: Path, *, rows: int, columns: int) -> None:
    """Write ``rows`` x ``columns`` of mixed values, streamed to disk by DuckDB."""
    selects = ["i AS id"] + [_column(j) for j in range(1, columns)]
    target = str(path).replace("'", "''")
    with duckdb.connect() as con:
        con.execute(
            f"COPY (SELECT {', '.join(selects)} FROM range({rows}) AS t(i)) "
            f"TO '{target}' (HEADER, DELIMITER ',')"
        )


def _column(j: int) -> str:
    # Each column scrambles the row number with its own factor, so that
    # columns differ and values repeat the way real data does.
    value = f"(i * {7919 * j + 1}) % 100003"
    kind = j % 3
    if kind == 1:
        return f"{value} / 100.0 AS amount_{j}"
    if kind == 2:
        word = f"[{', '.join(TEXTS)}][1 + {value} % {len(TEXTS)}]"
        return f"{word} || '-' || {value} % 997 AS text_{j}"
    return f"{value} % 5000 AS count_{j}"


def _import_here(csv: Path, data_dir: Path, limit_mb: int) -> dict:
    """Run the data consumer's import of ``csv`` in this process; measure it."""
    from context_data.config import DataSettings
    from context_data.services import import_dataset
    from context_data.sources import FileAndHttpSources
    from context_data.store import DuckDbStore
    from shared_kernel.contracts import ImportDataset

    settings = DataSettings(data_dir=data_dir, max_file_mb=limit_mb)
    sources = FileAndHttpSources.from_settings(settings)
    store = DuckDbStore(settings.data_dir)
    started = time.perf_counter()
    event = import_dataset(
        ImportDataset(source=str(csv)),
        dataset_id="bench",
        sources=sources,
        store=store,
        now=lambda: datetime.now(UTC),
    )
    seconds = time.perf_counter() - started

    # ru_maxrss is in kilobytes on Linux.
    peak_kb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    return {
        "seconds": round(seconds, 3),
        "peak_rss_mb": round(peak_kb / 1024, 1),
        "rows": event.profile.rows,
    }


def main(argv: list[str] | None = None) -> None:
    """Measure the import at each size given, one line per size."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--rows", type=int, nargs="+", default=DEFAULT_ROWS)
    parser.add_argument("--columns", type=int, default=DEFAULT_COLUMNS)
    parser.add_argument("--work-dir", type=Path, default=ROOT / ".bench")
    parser.add_argument("--child", nargs=3, help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.child:
        csv, data_dir, limit_mb = args.child
        print(json.dumps(_import_here(Path(csv), Path(data_dir), int(limit_mb))))
        return

    for rows in args.rows:
        result = measure_import(rows, args.columns, args.work_dir)
        rate = result["rows"] / result["seconds"]
        print(
            f"{rows:>11,} rows x {args.columns} columns: "
            f"{result['seconds']:6.2f} s, {rate:>9,.0f} rows/s, "
            f"peak {result['peak_rss_mb']:5.0f} MB",
            flush=True,
        )


if __name__ == "__main__":
    main()
