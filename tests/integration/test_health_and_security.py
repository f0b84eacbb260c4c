"""The health command, and the password rules outside local development."""

import subprocess
import sys
from pathlib import Path

from tests.helpers import wait_for

BIN = Path(sys.executable).parent


def run(args, env) -> subprocess.CompletedProcess:
    return subprocess.run(
        [str(BIN / args[0]), *args[1:]],
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
    )


def test_health_is_ok_only_while_the_context_consumer_beats(
    platform_env, start_consumer
):
    env = dict(
        platform_env,
        CONTEXT_NAME="email",
        UPKEEP_INTERVAL_S="0.5",
        HEARTBEAT_TIMEOUT_S="3",
    )
    assert run(["platform-health"], env).returncode == 1

    consumer = start_consumer(
        "email", env={k: v for k, v in env.items() if k != "CONTEXT_NAME"}
    )
    assert wait_for(lambda: run(["platform-health"], env).returncode == 0, timeout_s=30)
    assert "healthy: email consumer pid" in run(["platform-health"], env).stdout

    consumer.terminate()
    consumer.wait(30)
    result = run(["platform-health"], env)
    assert result.returncode == 1
    assert "no email consumer" in result.stdout


def test_health_fails_when_redis_does_not_answer(platform_env):
    env = dict(platform_env, CONTEXT_NAME="email")
    env.pop("REDIS_URL")
    env.update(REDIS_HOST="127.0.0.1", REDIS_PORT="1", REDIS_PASSWORD="x" * 20)

    result = run(["platform-health"], env)

    assert result.returncode == 1
    assert "does not answer" in result.stdout


def test_outside_local_mode_a_consumer_refuses_a_missing_or_short_password(
    platform_env,
):
    env = dict(platform_env)
    env.pop("REDIS_URL")
    env.update(REDIS_HOST="127.0.0.1", REDIS_PORT="6380")

    missing = run(["email-consume"], env)
    short = run(["platform-produce", "sample"], dict(env, REDIS_PASSWORD="short"))

    assert missing.returncode == short.returncode == 2
    assert "REDIS_PASSWORD (or REDIS_PASSWORD_FILE) must be set" in missing.stderr
    assert "at least 16 characters, it has 5" in short.stderr
    assert "short" not in short.stderr.replace("it has 5", "")


def test_the_password_can_come_from_a_file(
    platform_env, redis_server, tmp_path, redis_client
):
    secret = tmp_path / "redis-password"
    secret.write_text(redis_server.password + "\n")
    env = dict(
        platform_env,
        REDIS_HOST="127.0.0.1",
        REDIS_PORT=str(redis_server.port),
        REDIS_PASSWORD_FILE=str(secret),
    )
    env.pop("REDIS_URL")

    result = run(["platform-produce", "welcome", "ada@example.com"], env)

    assert result.returncode == 0, result.stderr
    assert redis_client.llen("dramatiq:email.welcome") == 1


def test_status_shows_queues_and_live_consumers(
    platform_env, start_consumer, redis_client, producer
):
    import json

    from shared_kernel import SendWelcomeEmail, send

    env = dict(platform_env, UPKEEP_INTERVAL_S="0.5", HEARTBEAT_TIMEOUT_S="3")
    for n in range(3):
        send(SendWelcomeEmail(to=f"u{n}@example.com", name="u"))
    redis_client.zadd("dramatiq:data.import.XQ", {"x": 1})

    before = json.loads(run(["platform-status", "--json"], env).stdout)
    queues = {q["queue"]: q for q in before["queues"]}
    assert queues["email.welcome"]["waiting"] == 3
    assert queues["email.welcome"]["oldest_waiting_s"] >= 0
    assert queues["data.import"]["dead"] == 1
    assert before["consumers"] == []

    start_consumer("email", env=env)
    assert wait_for(
        lambda: json.loads(run(["platform-status", "--json"], env).stdout)["queues"][0][
            "processed_1m"
        ]
        == 3,
        timeout_s=30,
    )
    after = json.loads(run(["platform-status", "--json"], env).stdout)
    [consumer] = after["consumers"]
    assert consumer["context"] == "email" and consumer["alive"]
    table = run(["platform-status"], env).stdout
    assert "email.welcome" in table and "alive" in table


def test_a_consumer_serves_its_counters_and_status_serves_queue_depths(
    platform_env, start_consumer, producer, smtp_sink
):
    import subprocess as sp
    import urllib.request

    from devtools.redis_server import free_port
    from shared_kernel import SendWelcomeEmail, send

    def scrape(port: int) -> str:
        try:
            return (
                urllib.request.urlopen(f"http://127.0.0.1:{port}/metrics", timeout=2)
                .read()
                .decode()
            )
        except OSError:
            return ""

    consumer_port, status_port = free_port(), free_port()
    start_consumer("email", env=dict(platform_env, METRICS_PORT=str(consumer_port)))
    for n in range(2):
        send(SendWelcomeEmail(to=f"u{n}@example.com", name="u"))
    send(SendWelcomeEmail(to="late@example.com", name="u"), delay_ms=60_000)

    line = (
        "platform_messages_processed_total"
        '{actor="send_welcome_email",context="email"} 2.0'
    )
    assert wait_for(lambda: line in scrape(consumer_port), timeout_s=30)
    assert "platform_message_duration_seconds_bucket" in scrape(consumer_port)

    status = sp.Popen(
        [str(BIN / "platform-status"), "--serve-metrics", str(status_port)],
        env=platform_env,
        stdout=sp.DEVNULL,
        stderr=sp.DEVNULL,
    )
    try:
        assert wait_for(
            lambda: "platform_queue_delayed" in scrape(status_port), timeout_s=20
        )
        text = scrape(status_port)
        assert (
            'platform_queue_delayed{context="email",queue="email.welcome"} 1.0' in text
        )
        assert 'platform_consumers_alive{context="email"} 1.0' in text
    finally:
        status.terminate()
        status.wait(10)


def test_status_and_acl_refuse_bad_arguments_with_one_line(platform_env, tmp_path):
    for args, expected in (
        (["platform-status", "--watch", "--interval-s", "-1"], "from 0.1 to 3600"),
        (["platform-status", "--serve-metrics", "99999"], "from 1 to 65535"),
        (["platform-acl", "--out", str(tmp_path / "no" / "x.acl")], "is not a folder"),
    ):
        result = run(args, platform_env)
        assert result.returncode == 2
        assert expected in result.stderr and "Traceback" not in result.stderr
