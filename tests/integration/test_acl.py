"""Per-context Redis ACL users: each context reaches only its own queues.

Needs Redis 7 (ACL key permissions for reading and writing): Debian's
redis-server, which CI installs.
"""

import shutil
import subprocess
import sys
import time
from pathlib import Path

import pytest
import redis

from devtools.redis_server import free_port
from tests.helpers import wait_for

BIN = Path(sys.executable).parent
SYSTEM_REDIS = shutil.which("redis-server", path="/usr/bin")
pytestmark = pytest.mark.skipif(
    SYSTEM_REDIS is None, reason="needs Redis 7: apt-get install redis-server"
)


@pytest.fixture
def acl_redis(tmp_path):
    subprocess.run(
        [
            str(BIN / "platform-acl"),
            "--out",
            str(tmp_path / "users.acl"),
            "--passwords-out",
            str(tmp_path / "pw.env"),
        ],
        check=True,
        capture_output=True,
    )
    passwords = dict(
        line.split("=", 1) for line in (tmp_path / "pw.env").read_text().splitlines()
    )
    port = free_port()
    process = subprocess.Popen(
        [
            SYSTEM_REDIS,
            "--port",
            str(port),
            "--bind",
            "127.0.0.1",
            "--save",
            "",
            "--appendonly",
            "no",
            "--dir",
            str(tmp_path),
            "--aclfile",
            str(tmp_path / "users.acl"),
        ],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    time.sleep(0.5)
    if process.poll() is not None:
        pytest.skip(f"{SYSTEM_REDIS} did not start with the ACL file")
    yield (
        port,
        {
            user.removeprefix("REDIS_PASSWORD_").lower(): pw
            for user, pw in passwords.items()
        },
    )
    process.terminate()
    process.wait(10)


def env_for(platform_env, port, user, password):
    env = dict(
        platform_env,
        REDIS_HOST="127.0.0.1",
        REDIS_PORT=str(port),
        REDIS_USERNAME=user,
        REDIS_PASSWORD=password,
    )
    env.pop("REDIS_URL")
    return env


def client_for(port, user, password):
    return redis.Redis(host="127.0.0.1", port=port, username=user, password=password)


def test_the_pipeline_runs_with_each_context_under_its_own_user(
    acl_redis, platform_env, smtp_sink, start_consumer
):
    port, passwords = acl_redis
    for context in ("data", "report", "email"):
        start_consumer(
            context, env=env_for(platform_env, port, context, passwords[context])
        )

    produced = subprocess.run(
        [
            str(BIN / "platform-produce"),
            "import",
            "sample:orders",
            "--report-to",
            "a@example.com",
        ],
        env=env_for(platform_env, port, "producer", passwords["producer"]),
        capture_output=True,
        text=True,
        timeout=60,
    )

    assert produced.returncode == 0, produced.stderr
    assert wait_for(lambda: len(smtp_sink.messages()) == 1, timeout_s=90)


def test_the_email_user_can_neither_read_nor_enqueue_to_the_data_queues(acl_redis):
    port, passwords = acl_redis
    email = client_for(port, "email", passwords["email"])

    for command in (
        lambda: email.lpop("dramatiq:data.import"),
        lambda: email.hgetall("dramatiq:data.import.msgs"),
        lambda: email.rpush("dramatiq:data.import", "x"),
        lambda: email.hset("dramatiq:data.import.msgs", "x", "{}"),
    ):
        with pytest.raises(redis.exceptions.NoPermissionError):
            command()
    assert email.rpush("dramatiq:email.welcome", "mine") == 1


def test_the_producer_user_can_enqueue_but_not_take_or_read(acl_redis):
    port, passwords = acl_redis
    producer = client_for(port, "producer", passwords["producer"])

    assert producer.rpush("dramatiq:email.welcome", "x") == 1
    for command in (
        lambda: producer.lpop("dramatiq:email.welcome"),
        lambda: producer.hget("dramatiq:email.welcome.msgs", "x"),
        lambda: producer.rpush("dramatiq:report.build", "x"),
        lambda: producer.flushall(),
    ):
        with pytest.raises(redis.exceptions.NoPermissionError):
            command()
