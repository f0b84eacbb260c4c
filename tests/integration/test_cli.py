"""Command lines: bad settings and bad commands end with one clear line."""

import subprocess
import sys
from pathlib import Path

import pytest

BIN = Path(sys.executable).parent


def run(args: list[str], env: dict[str, str]) -> subprocess.CompletedProcess:
    return subprocess.run(args, env=env, capture_output=True, text=True, timeout=60)


@pytest.mark.parametrize("context", ["email", "data", "report"])
@pytest.mark.parametrize(
    ("variable", "value", "expected"),
    [
        ("REDIS_PORT", "abc", "REDIS_PORT must be a number from 1 to 65535, got 'abc'"),
        ("CONTEXT_NAME", "billing", "CONTEXT_NAME must be one of"),
        ("REDIS_URL", "http://localhost", "REDIS_URL must look like redis://"),
    ],
)
def test_a_consumer_with_a_bad_setting_exits_2_with_one_line(
    platform_env, context, variable, value, expected
):
    env = dict(platform_env, **{variable: value})
    if variable != "REDIS_URL":
        env.pop("REDIS_URL")

    result = run([str(BIN / f"{context}-consume")], env)

    assert result.returncode == 2
    assert result.stderr.strip().splitlines() == [f"error: {result.stderr.strip()[7:]}"]
    assert expected in result.stderr
    assert "Traceback" not in result.stderr


def test_a_consumer_given_a_wrong_redis_password_says_so(platform_env, redis_server):
    env = dict(platform_env)
    env.pop("REDIS_URL")
    env.update(
        REDIS_HOST="127.0.0.1",
        REDIS_PORT=str(redis_server.port),
        REDIS_PASSWORD="not-the-password",
    )

    result = run([str(BIN / "email-consume")], env)

    assert result.returncode == 2
    assert "refused the credentials" in result.stderr
    assert "not-the-password" not in result.stderr


@pytest.mark.parametrize(
    ("args", "expected"),
    [
        (
            ["welcome", "not-an-address"],
            "invalid welcome command: to: value is not a valid email",
        ),
        (["import", "ftp://example.com/x.csv"], "unsupported URL scheme 'ftp'"),
        (
            ["import", "/x.csv", "--report-to", "nobody"],
            "report_to.0: value is not a valid email",
        ),
        (
            ["welcome", "a@example.com", "--count", "0"],
            "--count must be from 1 to 100000",
        ),
    ],
)
def test_a_bad_command_is_refused_before_anything_is_enqueued(
    platform_env, redis_client, args, expected
):
    result = run([str(BIN / "platform-produce"), *args], platform_env)

    assert result.returncode == 2
    assert expected in result.stderr
    assert "Traceback" not in result.stderr
    assert redis_client.dbsize() == 0


def test_the_producer_prints_the_id_of_every_message_it_sends(
    platform_env, redis_client
):
    result = run(
        [str(BIN / "platform-produce"), "welcome", "ada@example.com", "--count", "3"],
        platform_env,
    )

    assert result.returncode == 0, result.stderr
    lines = result.stdout.splitlines()
    assert len(lines) == 3
    assert all(line.startswith("email.welcome send_welcome_email ") for line in lines)
    assert redis_client.llen("dramatiq:email.welcome") == 3


def test_the_producer_without_redis_fails_clearly(platform_env):
    env = dict(platform_env)
    env.pop("REDIS_URL")
    env.update(
        REDIS_HOST="127.0.0.1",
        REDIS_PORT="1",
        ENQUEUE_TIMEOUT_S="1",
        REDIS_PASSWORD="a-password-long-enough",
    )

    result = run([str(BIN / "platform-produce"), "welcome", "ada@example.com"], env)

    assert result.returncode == 2
    assert "Redis at redis://127.0.0.1:1/0 stayed unreachable for 1 s" in result.stderr
    assert "was not stored" in result.stderr
    assert "Traceback" not in result.stderr


@pytest.mark.parametrize(
    "command", [["email-consume"], ["platform-produce", "welcome", "ada@example.com"]]
)
def test_a_database_number_redis_lacks_is_named_in_one_line(
    platform_env, redis_server, command
):
    env = dict(platform_env)
    env.pop("REDIS_URL")
    env.update(
        REDIS_HOST="127.0.0.1",
        REDIS_PORT=str(redis_server.port),
        REDIS_PASSWORD=redis_server.password,
        REDIS_DB="99",
    )

    result = run([str(BIN / command[0]), *command[1:]], env)

    assert result.returncode == 2
    assert len(result.stderr.strip().splitlines()) == 1
    assert "has no database of that number: REDIS_DB" in result.stderr
    assert "Traceback" not in result.stderr
