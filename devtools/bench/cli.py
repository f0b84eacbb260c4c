"""``hatch run bench``: every figure of the benchmark in one run, in minutes.

Usage: ``hatch run bench [--json] [--quick] [--out DIR] [--repeat N]``.
The table (or, with ``--json``, only a JSON list) goes to stdout, progress to
stderr; ``DIR`` receives ``results.json`` and ``bench.png``. The phases run
one after the other on one Redis server, so each measures an otherwise idle
system; their sizes keep a full run under five minutes on two cores.
"""

import argparse
import os
import signal
import sys
import tempfile
import time
from dataclasses import asdict, replace
from datetime import UTC, datetime
from pathlib import Path

from devtools.bench import chart, report
from devtools.bench.figures import AT_MOST, Figure
from devtools.bench.phases import QUICK, Plan, run_phases
from devtools.bench.progress import say
from devtools.bench.rig import BenchError, start_rig
from devtools.redis_server import RedisServerError
from shared_kernel.cli import USAGE_EXIT_CODE, exit_on_user_error

BUDGET_S = 300.0
OUT_FILES = ("results.json", "bench.png")


def main(argv: list[str] | None = None) -> None:
    """Run the benchmark, print its figures, write its files.

    Exits with 1 when a phase failed: its figures are then missing, the
    others are printed and written all the same.
    """
    args = _parse_args(argv)
    plan = _plan(args)
    out = _folder(args.out, "--out", files=OUT_FILES)
    workdir = _folder(args.workdir, "--workdir")
    started = time.monotonic()
    signal.signal(signal.SIGTERM, _raise_interrupt)
    with exit_on_user_error():
        figures, failed = _measure(plan, workdir)
    runtime_s = time.monotonic() - started
    figures.append(
        Figure("bench.runtime", runtime_s, "s", target=BUDGET_S, compare=AT_MOST)
    )
    # The figures first: a folder that cannot take the files loses nothing.
    print(report.as_json(figures) if args.json else report.table(figures), flush=True)
    try:
        _write_files(out, figures, plan, runtime_s)
    except OSError as error:
        _fail(f"could not write the files into {str(out)!r} ({error}); the figures "
              "are above; choose another --out")
    if failed:
        _fail(f"{len(failed)} phase(s) failed: {', '.join(failed)}; see above")


def _parse_args(argv: list[str] | None) -> argparse.Namespace:
    parser = _Parser(prog="hatch run bench", description=__doc__.split("\n")[0])
    parser.add_argument("--json", action="store_true", help="print only JSON")
    parser.add_argument(
        "--quick", action="store_true", help="tiny sizes: checks the bench runs"
    )
    parser.add_argument("--out", default="bench-results", help="folder for files")
    parser.add_argument(
        "--repeat", type=_positive, help="runs per throughput figure (default 3)"
    )
    parser.add_argument(
        "--workdir", default=".bench", help="folder for Redis data, logs and mail"
    )
    # Tests shorten the idle spacing of the latency phases with it.
    parser.add_argument(
        "--spacing-scale", type=_scale, default=1.0, help=argparse.SUPPRESS
    )
    return parser.parse_args(argv)


class _Parser(argparse.ArgumentParser):
    """An argument parser that refuses bad arguments with one line."""

    def error(self, message: str) -> None:
        self.exit(2, f"{self.prog}: error: {message}; see {self.prog} --help\n")


def _plan(args: argparse.Namespace) -> Plan:
    plan = QUICK if args.quick else Plan()
    low, high = plan.spacing_s
    scale = args.spacing_scale
    return replace(
        plan,
        repeat=args.repeat or plan.repeat,
        spacing_s=(low * scale, high * scale),
    )


def _measure(plan: Plan, workdir: Path) -> tuple[list[Figure], list[str]]:
    try:
        rig = start_rig(workdir, dict(os.environ))
    except (RedisServerError, BenchError) as error:
        _fail(str(error))
    try:
        say(f"Redis at {rig.settings.redis.address}; files in {rig.root}")
        return run_phases(rig, plan)
    except KeyboardInterrupt:
        say("Interrupted: stopping everything the bench started")
        sys.exit(130)
    finally:
        rig.stop()


def _write_files(out: Path, figures: list[Figure], plan: Plan, runtime_s: float):
    run = {
        "finished_at": datetime.now(UTC).isoformat(timespec="seconds"),
        "runtime_s": round(runtime_s, 1),
        "plan": asdict(plan),
    }
    report.write_results(out / "results.json", figures, run)
    chart.draw(figures, out / "bench.png")
    say(f"Wrote {out / 'results.json'} and {out / 'bench.png'}")


def _folder(path: str, option: str, *, files: tuple[str, ...] = ()) -> Path:
    folder = Path(path)
    if folder.exists() and not folder.is_dir():
        _fail(f"{option} {path!r} is a file; name a folder", code=USAGE_EXIT_CODE)
    try:
        folder.mkdir(parents=True, exist_ok=True)
        # Found now rather than after minutes of measuring.
        with tempfile.TemporaryFile(dir=folder):
            pass
    except OSError as error:
        _fail(
            f"{option} {path!r} cannot take files ({error.strerror}); choose another",
            code=USAGE_EXIT_CODE,
        )
    for name in files:
        if (folder / name).is_dir():
            _fail(
                f"{option} {path!r} holds a folder named {name}, where the bench "
                "writes a file; choose another",
                code=USAGE_EXIT_CODE,
            )
    return folder


def _positive(text: str) -> int:
    if not text.isdigit() or int(text) < 1:
        raise argparse.ArgumentTypeError(
            f"must be a whole number of 1 or more, got {text!r}"
        )
    return int(text)


def _scale(text: str) -> float:
    try:
        scale = float(text)
    except ValueError:
        scale = -1.0
    if not 0 <= scale <= 10:
        raise argparse.ArgumentTypeError(f"must be a number from 0 to 10, got {text!r}")
    return scale


def _raise_interrupt(signum, frame) -> None:
    raise KeyboardInterrupt


def _fail(message: str, *, code: int = 1) -> None:
    print(f"error: {message}", file=sys.stderr)
    sys.exit(code)
