"""The main job: ``hatch run demo`` end to end on real servers."""

import email
import email.policy
import json
import os
import subprocess
import sys
from pathlib import Path

import pytest


@pytest.fixture(scope="module")
def demo_run(tmp_path_factory):
    workdir = tmp_path_factory.mktemp("demo")
    env = {
        k: v
        for k, v in os.environ.items()
        if not k.startswith(("REDIS_", "SMTP_", "CONTEXT_NAME"))
    }
    env["LOG_DIR"] = str(workdir / "logs")
    result = subprocess.run(
        [sys.executable, "-m", "devtools.demo", "--json", "--workdir", str(workdir)],
        env=env,
        capture_output=True,
        text=True,
        timeout=240,
    )
    return result, workdir


def test_the_demo_exits_0_and_prints_only_a_json_summary(demo_run):
    result, _ = demo_run

    assert result.returncode == 0, result.stderr[-3000:]
    summary = json.loads(result.stdout)
    assert {"queues", "report", "emails", "elapsed_s"} <= summary.keys()
    assert summary["elapsed_s"] > 0


def test_every_queue_processed_what_was_sent_with_nothing_failed_or_dead(demo_run):
    summary = json.loads(demo_run[0].stdout)
    queues = summary["queues"]

    assert queues["email.welcome"]["sent"] == queues["email.welcome"]["processed"] == 3
    for name in ("data.import", "report.build", "email.report"):
        assert queues[name]["processed"] == queues[name]["sent"] == 1
    assert queues["notification"]["processed"] >= 1
    assert queues["log"]["processed"] >= 1
    for counts in queues.values():
        assert counts["failed"] == counts["dead"] == 0
        assert counts["processed"] == counts["sent"]


def test_the_report_email_arrives_with_the_report_attached(demo_run):
    summary = json.loads(demo_run[0].stdout)
    mails = [
        email.message_from_bytes(Path(p).read_bytes(), policy=email.policy.default)
        for p in summary["emails"]
    ]

    [report_mail] = [m for m in mails if m["To"] == "analyst@example.com"]
    attached = {
        part.get_filename(): part.get_payload(decode=True)
        for part in report_mail.iter_attachments()
    }
    assert set(attached) == {"report.html", "summary.csv"}
    assert attached["report.html"] == Path(summary["report"]).read_bytes()
    assert b"Seattle weather" in attached["report.html"]
    assert attached["summary.csv"].startswith(b"column,")
    welcome = sorted(m["To"] for m in mails if m["To"] != "analyst@example.com")
    assert welcome == ["ada@example.com", "alan@example.com", "grace@example.com"]


def test_each_context_has_its_log_and_error_log(demo_run):
    _, workdir = demo_run

    for context in ("data", "report", "email"):
        folder = workdir / "logs" / context
        assert (folder / f"{context}.log").is_file()
        assert (folder / "errors.log").is_file()
        assert f"Consumer {context} started" in (folder / f"{context}.log").read_text()
        assert (folder / "errors.log").read_text() == ""


def test_the_import_can_be_traced_through_all_three_contexts(tmp_path):
    """One correlation id ties the import, the report and its email together."""
    import re

    from devtools.redis_server import RedisServer
    from devtools.smtp_sink import SmtpSink
    from tests.helpers import wait_for

    with RedisServer(tmp_path / "redis") as server, SmtpSink(tmp_path / "mail") as sink:
        env = {
            k: v
            for k, v in os.environ.items()
            if not k.startswith(("REDIS_", "SMTP_", "CONTEXT_NAME"))
        }
        env.update(
            REDIS_URL=server.url,
            SMTP_HOST="127.0.0.1",
            SMTP_PORT=str(sink.port),
            LOG_DIR=str(tmp_path / "logs"),
            DATA_DIR=str(tmp_path / "data"),
            REPORT_DIR=str(tmp_path / "reports"),
        )
        bin_dir = Path(sys.executable).parent
        consumers = [
            subprocess.Popen(
                [str(bin_dir / f"{c}-consume")],
                env=env,
                stdout=subprocess.DEVNULL,
                stderr=subprocess.DEVNULL,
            )
            for c in ("data", "report", "email")
        ]
        try:
            subprocess.run(
                [
                    str(bin_dir / "platform-produce"),
                    "import",
                    "sample:orders",
                    "--report-to",
                    "a@example.com",
                ],
                env=env,
                check=True,
                capture_output=True,
            )
            assert wait_for(lambda: len(sink.messages()) == 1, timeout_s=60)
            data_log = (tmp_path / "logs" / "data" / "data.log").read_text()
            [cid] = set(re.findall(r"import_dataset \S+ (\w+) \|", data_log))
            path = json.loads(
                subprocess.run(
                    [str(bin_dir / "platform-status"), "--trace", cid, "--json"],
                    env=env,
                    capture_output=True,
                    text=True,
                    check=True,
                ).stdout
            )
        finally:
            for consumer in consumers:
                consumer.terminate()
            for consumer in consumers:
                consumer.wait(30)

    hops = [
        (hop["context"], hop["actor"]) for hop in path if hop["queue"] != "notification"
    ]
    assert hops == [
        ("data", "import_dataset"),
        ("report", "build_report"),
        ("email", "send_report_email"),
    ]
    assert cid in (tmp_path / "logs" / "email" / "email.log").read_text()


def test_the_redis_password_appears_in_no_log_and_no_output(demo_run):
    import re

    result, workdir = demo_run
    config = (workdir / "redis" / "redis.conf").read_text()
    [password] = re.findall(r'requirepass "(.+)"', config)
    from urllib.parse import quote

    texts = [result.stdout, result.stderr]
    texts += [path.read_text() for path in (workdir / "logs").rglob("*.log*")]
    texts += [path.read_text() for path in (workdir / "console").glob("*.txt")]
    for text in texts:
        assert password not in text
        assert quote(password, safe="") not in text
