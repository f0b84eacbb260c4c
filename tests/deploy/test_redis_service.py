"""The redis service's own commands, run for real with a password holding ``$``.

No Docker engine runs here, so the test runs what the container would: the
service's command and health check from compose.yaml, after Compose's ``$$``
unescaping, with the environment Compose reads from deploy/envs/.env.redis,
against a real ``redis-server``. Only the port is changed, to a free one, and
the image's entrypoint is stood in for by one that starts its arguments.
"""

import subprocess
from pathlib import Path

import pytest
import redis
from redis.backoff import NoBackoff
from redis.retry import Retry

from devtools.envfile import fill_env_file, parse_env_file
from devtools.redis_server import find_redis_server, free_port
from tests.deploy.compose_model import ENVS, services, unescape
from tests.helpers import wait_for

NO_RETRY = Retry(NoBackoff(), 0)
HARD_PASSWORD = 'pa$$word-$HOME-${USER}-"quoted" `id` \\ #%@:/ end-of-long-secret'


@pytest.fixture
def redis_bin(tmp_path) -> Path:
    """A folder standing in for the redis image's PATH."""
    folder = tmp_path / "bin"
    folder.mkdir()
    server = Path(find_redis_server())
    (folder / "redis-server").symlink_to(server)
    (folder / "redis-cli").symlink_to(server.with_name("redis-cli"))
    entrypoint = folder / "docker-entrypoint.sh"
    entrypoint.write_text('#!/bin/sh\nexec "$@"\n')
    entrypoint.chmod(0o755)
    return folder


def container_env(env_file: Path, bin_folder: Path) -> dict[str, str]:
    return {"PATH": f"{bin_folder}:/usr/bin:/bin", **parse_env_file(env_file)}


def on_port(text: str, port: int) -> str:
    return text.replace("6380", str(port))


@pytest.fixture
def started_redis(tmp_path, redis_bin):
    """Start the redis service's command with the hard password; stop it after."""
    env_file = fill_env_file(ENVS / ".env.redis", tmp_path / ".env.redis",
                             {"REDIS_PASSWORD": HARD_PASSWORD})
    env = container_env(env_file, redis_bin)
    port = free_port()
    command = [on_port(unescape(part), port) for part in services()["redis"]["command"]]
    assert f"--port {port}" in command[-1]
    workdir = tmp_path / "data"
    workdir.mkdir()
    process = subprocess.Popen(command, env=env, cwd=workdir,
                               stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    yield process, port, env
    process.terminate()
    process.wait(10)


def health_check(env: dict[str, str], port: int) -> int:
    kind, script = services()["redis"]["healthcheck"]["test"]
    assert kind == "CMD-SHELL" and "-p 6380" in script
    return subprocess.run(["sh", "-c", on_port(unescape(script), port)], env=env,
                          capture_output=True, timeout=10).returncode


def test_the_env_file_hands_a_password_with_dollars_over_unchanged(tmp_path):
    env_file = fill_env_file(ENVS / ".env.redis", tmp_path / ".env.redis",
                             {"REDIS_PASSWORD": HARD_PASSWORD})

    assert parse_env_file(env_file)["REDIS_PASSWORD"] == HARD_PASSWORD
    assert f"REDIS_PASSWORD='{HARD_PASSWORD}'" in env_file.read_text()


def test_redis_started_as_compose_would_accepts_exactly_that_password(started_redis):
    process, port, _ = started_redis
    client = redis.Redis(port=port, password=HARD_PASSWORD, socket_timeout=5)

    assert wait_for(lambda: _pings(client), timeout_s=10)
    assert client.config_get("appendonly") == {"appendonly": "yes"}
    assert client.config_get("maxmemory-policy") == {"maxmemory-policy": "noeviction"}
    with pytest.raises(redis.AuthenticationError):
        redis.Redis(port=port, password=HARD_PASSWORD[:-1], retry=NO_RETRY).ping()


def test_the_password_is_not_visible_in_the_process_list(started_redis):
    process, port, _ = started_redis
    assert wait_for(lambda: _pings(redis.Redis(port=port, password=HARD_PASSWORD)),
                    timeout_s=10)

    command_line = Path(f"/proc/{process.pid}/cmdline").read_bytes()

    assert b"redis-server" in command_line
    assert HARD_PASSWORD.encode() not in command_line
    assert b"end-of-long-secret" not in command_line


def test_the_health_check_passes_with_the_password_and_fails_without_it(started_redis):
    _, port, env = started_redis
    assert wait_for(lambda: _pings(redis.Redis(port=port, password=HARD_PASSWORD)),
                    timeout_s=10)

    assert health_check(env, port) == 0
    assert health_check({**env, "REDIS_PASSWORD": "wrong-password"}, port) != 0


def test_the_health_check_fails_when_redis_is_down(redis_bin, tmp_path):
    env = container_env(ENVS / ".env.redis", redis_bin)

    assert health_check(env, free_port()) != 0


def _pings(client: redis.Redis) -> bool:
    try:
        return client.ping()
    except redis.ConnectionError:
        return False
