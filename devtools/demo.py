"""The main job: the whole pipeline on real servers, end to end, in one command.

``hatch run demo`` starts a Redis server and an SMTP sink (unless settings name
real ones), the three consumers as separate processes through their production
entry points, then sends welcome emails and the import of a public dataset
with a report to be emailed. It waits for every message to be processed,
prints a summary (``--json`` for machines) and stops everything it started.
"""

import argparse
import json
import logging
import os
import shutil
import signal
import subprocess
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path

from devtools.redis_server import RedisServer
from devtools.smtp_sink import SmtpSink
from shared_kernel import (
    ImportDataset,
    RecordLog,
    SendWelcomeEmail,
    Settings,
    configure_logging,
    install_broker,
    send,
)
from shared_kernel.cli import exit_on_user_error
from shared_kernel.logs import log_paths
from shared_kernel.queues import ContextQueues, QueueNames
from shared_kernel.stats import read_counters

CONTEXTS = ("data", "report", "email")
WELCOME_USERS = (
    ("Ada Lovelace", "ada@example.com"),
    ("Grace Hopper", "grace@example.com"),
    ("Alan Turing", "alan@example.com"),
)
REPORT_RECIPIENT = "analyst@example.com"
ALL_QUEUES = tuple(dict.fromkeys(q for qs in ContextQueues.values() for q in qs))


@dataclass
class Run:
    """What the demo started and where it keeps its files."""

    root: Path
    env: dict[str, str]
    redis: RedisServer | None = None
    smtp: SmtpSink | None = None
    consumers: dict[str, object] = field(default_factory=dict)
    started_s: float = field(default_factory=time.monotonic)


def main(argv: list[str] | None = None) -> None:
    """Run the demo and exit 0 only when every message was processed."""
    args = _parse_args(argv)
    signal.signal(signal.SIGTERM, _raise_interrupt)
    run = Run(root=Path(args.workdir).resolve(), env=dict(os.environ))
    with exit_on_user_error():
        _check_settings(run.env)
    try:
        with exit_on_user_error():
            ok, summary = _execute(run, args)
    except KeyboardInterrupt:
        _say("Interrupted: stopping everything the demo started")
        _stop_all(run)
        sys.exit(130)
    finally:
        _stop_all(run)
    if summary is not None:
        print(json.dumps(summary, indent=2) if args.json else _table(summary))
    sys.exit(0 if ok else 1)


def _check_settings(env: dict[str, str]) -> None:
    """Fail on a bad setting before anything starts, as the consumers would."""
    from context_data.config import DataSettings
    from context_email.config import EmailSettings
    from context_report.config import ReportSettings

    Settings.from_env(env)
    EmailSettings.from_env(env)
    DataSettings.from_env(env)
    ReportSettings.from_env(env)
    if env.get("SHUTDOWN_TIMEOUT_S"):
        from shared_kernel.runner import _shutdown_timeout_s

        _shutdown_timeout_s(env["SHUTDOWN_TIMEOUT_S"])


def _parse_args(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="demo", description=__doc__.split("\n")[0])
    parser.add_argument(
        "--json",
        action="store_true",
        help="print the summary as one JSON object on stdout",
    )
    parser.add_argument(
        "--timeout-s",
        type=float,
        default=180.0,
        help="give up when the pipeline has not finished by then",
    )
    parser.add_argument(
        "--workdir",
        default=".demo",
        help="folder for Redis data, mail, datasets and reports",
    )
    return parser.parse_args(argv)


def _raise_interrupt(signum, frame) -> None:
    raise KeyboardInterrupt


def _execute(run: Run, args: argparse.Namespace) -> tuple[bool, dict]:
    _prepare_folders(run)
    _start_redis(run)
    _start_smtp(run)
    settings = Settings.from_env(run.env)
    configure_logging(settings, console=False)
    logging.getLogger("mail.log").setLevel(logging.WARNING)  # aiosmtpd chatter
    broker = install_broker(settings)
    baseline = read_counters(broker.client, ALL_QUEUES)

    _start_consumers(run)
    expected_mails = _produce(run)
    finished = _wait(run, broker.client, baseline, expected_mails, args.timeout_s)
    summary = _summary(run, settings, broker.client, baseline)
    ok = finished and _clean(summary)
    summary["ok"] = ok
    return ok, summary


def _prepare_folders(run: Run) -> None:
    for name in ("redis", "mail", "data", "reports", "console"):
        shutil.rmtree(run.root / name, ignore_errors=True)
    run.root.mkdir(parents=True, exist_ok=True)
    run.env.setdefault("LOG_DIR", str(Path("logs").resolve()))
    run.env.setdefault("DATA_DIR", str(run.root / "data"))
    run.env.setdefault("REPORT_DIR", str(run.root / "reports"))
    run.env.setdefault("PLATFORM_ENV", "local")
    run.env.pop("CONTEXT_NAME", None)


def _start_redis(run: Run) -> None:
    if run.env.get("REDIS_URL") or run.env.get("REDIS_HOST"):
        _say("Using the Redis server named by REDIS_URL / REDIS_HOST")
        return
    run.redis = RedisServer(run.root / "redis").start()
    run.env["REDIS_URL"] = run.redis.url
    _say(f"Started Redis on 127.0.0.1:{run.redis.port} (AOF on, password set)")


def _start_smtp(run: Run) -> None:
    if run.env.get("SMTP_HOST"):
        _say(f"Using the SMTP server at {run.env['SMTP_HOST']}")
        return
    run.smtp = SmtpSink(run.root / "mail").start()
    run.env.update(SMTP_HOST="127.0.0.1", SMTP_PORT=str(run.smtp.port))
    run.env.pop("SMTP_USER", None)
    run.env.pop("SMTP_PASSWORD", None)
    run.env["SMTP_STARTTLS"] = "false"
    _say(f"Started an SMTP sink on 127.0.0.1:{run.smtp.port} writing {run.smtp.folder}")


def _start_consumers(run: Run) -> None:
    console = run.root / "console"
    console.mkdir(parents=True, exist_ok=True)
    for context in CONTEXTS:
        output = open(console / f"{context}.txt", "wb")
        run.consumers[context] = subprocess.Popen(
            [*_entry_point(context), "--threads", "4"],
            env=run.env,
            stdout=output,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
        output.close()
    _say(f"Started consumers: {', '.join(CONTEXTS)}")


def _entry_point(context: str) -> list[str]:
    script = Path(sys.executable).parent / f"{context}-consume"
    if script.exists():
        return [str(script)]
    return [sys.executable, "-m", f"context_{context}.consumer"]


def _dataset_path() -> Path:
    from vega_datasets import local_data

    return Path(local_data.seattle_weather.filepath)


def _produce(run: Run) -> int:
    send(RecordLog(text="demo run started", origin="demo"))
    for name, address in WELCOME_USERS:
        send(SendWelcomeEmail(to=address, name=name))
    dataset = _dataset_path()
    send(
        ImportDataset(
            source=str(dataset),
            dataset_name="Seattle weather",
            report_to=(REPORT_RECIPIENT,),
        )
    )
    _say(f"Sent {len(WELCOME_USERS)} welcome emails and the import of {dataset.name}")
    return len(WELCOME_USERS) + 1


def _pending(client, queue: str) -> int:
    with client.pipeline(transaction=False) as pipe:
        pipe.hlen(f"dramatiq:{queue}.msgs")
        pipe.hlen(f"dramatiq:{queue}.DQ.msgs")
        return sum(pipe.execute())


def _wait(
    run: Run, client, baseline: dict, expected_mails: int, timeout_s: float
) -> bool:
    deadline = time.monotonic() + timeout_s
    last_line = ""
    while time.monotonic() < deadline:
        _check_consumers_alive(run)
        pending = {queue: _pending(client, queue) for queue in ALL_QUEUES}
        mails = _mail_count(run, client, baseline)
        waiting = sum(pending.values())
        line = (
            f"waiting: {waiting} messages pending, "
            f"{mails}/{expected_mails} emails sent"
        )
        if line != last_line:
            _say(line)
            last_line = line
        if not any(pending.values()) and mails >= expected_mails:
            return True
        time.sleep(0.2)
    _say(f"Timed out after {timeout_s:.0f} s")
    return False


def _check_consumers_alive(run: Run) -> None:
    for context, process in run.consumers.items():
        code = process.poll()
        if code is not None:
            console = run.root / "console" / f"{context}.txt"
            raise SystemExit(
                f"error: the {context} consumer exited with {code}; "
                f"its output is in {console}:\n{console.read_text()[-2000:]}"
            )


def _mail_count(run: Run, client, baseline: dict) -> int:
    if run.smtp is not None:
        return len(run.smtp.messages())
    counters = read_counters(
        client, [QueueNames.EMAIL_WELCOME, QueueNames.EMAIL_REPORT]
    )
    return sum(counters[q]["processed"] - baseline[q]["processed"] for q in counters)


def _summary(run: Run, settings: Settings, client, baseline: dict) -> dict:
    counters = read_counters(client, ALL_QUEUES)
    queues = {}
    for queue in ALL_QUEUES:
        now, before = counters[queue], baseline[queue]
        queues[queue] = {
            key: now[key] - before[key]
            for key in ("sent", "processed", "failed", "retried", "dead")
        }
        queues[queue]["pending"] = _pending(client, queue)
    return {
        "queues": queues,
        "report": _report_path(run),
        "emails": [str(path) for path in run.smtp.messages()] if run.smtp else [],
        "logs": _log_files(settings),
        "redis": settings.redis.address,
        "elapsed_s": round(time.monotonic() - run.started_s, 2),
    }


def _report_path(run: Run) -> str | None:
    reports = sorted(
        Path(run.env["REPORT_DIR"]).glob("*/report.html"),
        key=lambda path: path.stat().st_mtime,
    )
    return str(reports[-1]) if reports else None


def _log_files(settings: Settings) -> list[str]:
    files = []
    for context in CONTEXTS:
        context_settings = Settings(context_name=context, log_dir=settings.log_dir)
        files += [str(path) for path in log_paths(context_settings)]
    return files


def _clean(summary: dict) -> bool:
    return summary["report"] is not None and all(
        counts["failed"] == 0 and counts["dead"] == 0 and counts["pending"] == 0
        for counts in summary["queues"].values()
    )


def _stop_all(run: Run) -> None:
    for process in run.consumers.values():
        if process.poll() is None:
            process.send_signal(signal.SIGTERM)
    for process in run.consumers.values():
        try:
            process.wait(40)
        except Exception:
            process.kill()
    if run.smtp is not None:
        run.smtp.stop()
    if run.redis is not None:
        run.redis.stop()


def _table(summary: dict) -> str:
    lines = [
        f"{'queue':<16}{'sent':>6}{'processed':>11}{'failed':>8}"
        f"{'retried':>9}{'dead':>6}"
    ]
    for queue, c in summary["queues"].items():
        lines.append(
            f"{queue:<16}{c['sent']:>6}{c['processed']:>11}{c['failed']:>8}"
            f"{c['retried']:>9}{c['dead']:>6}"
        )
    lines += ["", f"report:  {summary['report']}", "emails:"]
    lines += [f"  {path}" for path in summary["emails"]] or [
        "  (sent to the configured SMTP server)"
    ]
    lines += ["logs:"] + [f"  {path}" for path in summary["logs"]]
    lines += [
        f"elapsed: {summary['elapsed_s']} s",
        "result:  " + ("OK, every message processed" if summary["ok"] else "FAILED"),
    ]
    return "\n".join(lines)


def _say(text: str) -> None:
    print(text, file=sys.stderr, flush=True)


if __name__ == "__main__":
    main()
