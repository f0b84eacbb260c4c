"""``hatch run bench`` runs end to end and refuses bad input with one line.

The benchmark runs once, at its quick sizes, to prove that every phase works
and that its output is what a script reading it expects. Its figures depend
on the machine: no test holds them against a target.
"""

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from devtools.redis_server import free_port

PNG_MAGIC = b"\x89PNG\r\n\x1a\n"
PHASE_PREFIXES = ("send.", "drain.", "latency.", "pipeline.", "idle.", "data_import.")
EXPECTED_FIGURES = (
    "send.plain_dramatiq",
    "send.kernel",
    "send.ratio_kernel_to_plain",
    "send.kernel_send_many",
    "drain.kernel_1t",
    "drain.kernel_8t",
    "drain.plain_8t_default_prefetch",
    "latency.kernel_hop_p50",
    "latency.plain_hop_p99",
    "pipeline.send_to_mail_p50",
    "pipeline.transit_p50",
    "pipeline.handlers_p95",
    "idle.kernel_client_commands",
    "idle.plain_script_commands",
    "data_import.time",
    "data_import.peak_rss",
    "bench.runtime",
)


def bench(args: list[str], env: dict[str, str], timeout_s: float = 60):
    return subprocess.run(
        [sys.executable, "-m", "devtools.bench", *args],
        env=env,
        capture_output=True,
        text=True,
        timeout=timeout_s,
    )


@pytest.fixture(scope="module")
def quick_run(redis_server, tmp_path_factory):
    """One quick run of the bench with ``--json``, on the session's Redis."""
    redis_server.client().flushall()
    out = tmp_path_factory.mktemp("bench-out")
    workdir = tmp_path_factory.mktemp("bench-work")
    env = {k: v for k, v in os.environ.items() if not k.startswith("REDIS_")}
    env["REDIS_URL"] = redis_server.url
    args = ["--quick", "--json", "--spacing-scale", "0.05"]
    args += ["--out", str(out), "--workdir", str(workdir)]
    return bench(args, env, timeout_s=240), out


class TestAQuickRun:
    def test_exits_with_zero(self, quick_run):
        result, _ = quick_run
        assert result.returncode == 0, result.stderr[-3000:]

    def test_prints_only_a_json_list_of_figures(self, quick_run):
        result, _ = quick_run
        figures = json.loads(result.stdout)
        assert isinstance(figures, list) and figures
        for figure in figures:
            assert {"name", "value", "unit"} <= figure.keys(), figure
            if "target" in figure:
                assert isinstance(figure["meets"], bool), figure
        spread = {f["name"]: f for f in figures}["send.kernel"]
        assert spread["low"] <= spread["value"] <= spread["high"], spread
        assert spread["runs"] >= 1

    def test_measures_every_phase(self, quick_run):
        result, _ = quick_run
        names = {figure["name"] for figure in json.loads(result.stdout)}
        assert set(EXPECTED_FIGURES) <= names
        assert not [n for n in names if n.endswith(".failed")]
        for prefix in PHASE_PREFIXES:
            assert any(name.startswith(prefix) for name in names), prefix

    def test_explains_the_pipeline_figures_held_to_the_hop_latency(self, quick_run):
        result, _ = quick_run
        figures = {f["name"]: f for f in json.loads(result.stdout)}
        hop = figures["latency.kernel_hop_p50"]["value"]
        for name in ("pipeline.send_to_mail_p50", "pipeline.transit_p50"):
            assert figures[name]["target"] == pytest.approx(3 * hop, rel=0.01)
            assert "single-hop p50" in figures[name]["note"]
        transit = figures["pipeline.transit_p50"]["note"]
        assert "any of the three handlers ran" in transit

    def test_writes_results_and_a_chart(self, quick_run):
        result, out = quick_run
        document = json.loads((out / "results.json").read_text())
        printed = [f["name"] for f in json.loads(result.stdout)]
        assert [f["name"] for f in document["figures"]] == printed
        chart = (out / "bench.png").read_bytes()
        assert chart.startswith(PNG_MAGIC) and len(chart) > 20_000


class TestBadInput:
    @pytest.mark.parametrize("value", ["0", "abc"])
    def test_a_bad_repeat_count_is_refused_with_one_line(self, value, tmp_path):
        result = bench(["--repeat", value, "--out", str(tmp_path)], dict(os.environ))
        assert result.returncode == 2
        assert result.stdout == ""
        lines = result.stderr.strip().splitlines()
        assert len(lines) == 1 and repr(value) in lines[0], result.stderr

    def test_an_unreachable_redis_fails_with_one_line(self, tmp_path):
        env = dict(os.environ, REDIS_URL=f"redis://127.0.0.1:{free_port()}/0")
        args = ["--quick", "--json", "--out", str(tmp_path / "out")]
        result = bench(args + ["--workdir", str(tmp_path / "work")], env)
        assert result.returncode != 0
        assert result.stdout == ""
        lines = result.stderr.strip().splitlines()
        assert len(lines) == 1 and "Traceback" not in result.stderr, result.stderr
        assert "REDIS_URL" in lines[0]

    def test_a_bad_setting_fails_with_one_line_and_leaves_no_server(self, tmp_path):
        env = {k: v for k, v in os.environ.items() if not k.startswith("REDIS_")}
        env["CONSUMER_PREFETCH"] = "abc"
        work = tmp_path / "work"
        args = ["--quick", "--out", str(tmp_path / "out"), "--workdir", str(work)]
        result = bench(args, env)
        assert result.returncode == 2
        assert "CONSUMER_PREFETCH" in result.stderr and "'abc'" in result.stderr
        assert "Traceback" not in result.stderr, result.stderr
        assert not processes_in(work), "a server of the run is still running"

    def test_a_workdir_holding_other_files_is_refused_and_left_alone(self, tmp_path):
        work = tmp_path / "mine"
        (work / "data").mkdir(parents=True)
        (work / "data" / "orders.duckdb").write_text("keep me")
        args = ["--quick", "--out", str(tmp_path / "out"), "--workdir", str(work)]
        result = bench(args, dict(os.environ))
        assert result.returncode != 0
        lines = result.stderr.strip().splitlines()
        assert len(lines) == 1 and "holds files the bench did not make" in lines[0]
        assert (work / "data" / "orders.duckdb").read_text() == "keep me"

    @pytest.mark.parametrize("blocker", ["file", "results.json folder"])
    def test_an_out_that_cannot_take_the_files_is_refused_before_measuring(
        self, tmp_path, blocker
    ):
        out = tmp_path / "out"
        if blocker == "file":
            out.write_text("")
        else:
            (out / "results.json").mkdir(parents=True)
        args = ["--quick", "--out", str(out), "--workdir", str(tmp_path / "work")]
        result = bench(args, dict(os.environ), timeout_s=20)
        assert result.returncode == 2
        lines = result.stderr.strip().splitlines()
        assert len(lines) == 1 and repr(str(out)) in lines[0], result.stderr
        assert not (tmp_path / "work").exists(), "it measured before refusing"


def processes_in(folder) -> list[str]:
    """Return the pids of processes whose working folder is under ``folder``."""
    found = []
    for cwd in Path("/proc").glob("[0-9]*/cwd"):
        try:
            if str(cwd.resolve()).startswith(str(folder.resolve())):
                found.append(cwd.parent.name)
        except OSError:
            continue
    return found
