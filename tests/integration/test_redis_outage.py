"""Redis killed and restarted: producers and consumers resume by themselves.

Each test runs its own Redis server (AOF on) so that it can kill it with
SIGKILL and start it again on the same port and data folder.
"""

import threading
import time

import pytest

from devtools.redis_server import RedisServer
from shared_kernel import SendWelcomeEmail, send
from tests.helpers import wait_for
from tests.integration.conftest import dead_letter_ids, read_mail


@pytest.fixture
def own_redis(tmp_path, platform_env):
    server = RedisServer(tmp_path / "own-redis").start()
    platform_env.update(REDIS_URL=server.url, HEARTBEAT_TIMEOUT_S="3",
                        UPKEEP_INTERVAL_S="0.5", ENQUEUE_TIMEOUT_S="20")
    yield server
    server.stop()


def restart(server: RedisServer, *, down_s: float) -> None:
    # AOF is fsynced every second: let the last writes reach the disk first.
    time.sleep(1.2)
    server.kill()
    time.sleep(down_s)
    server.start()


def welcome(address: str, **options) -> None:
    send(SendWelcomeEmail(to=address, name="x"), **options)


def log_lines(env, needle: str) -> int:
    import pathlib

    text = (pathlib.Path(env["LOG_DIR"]) / "email" / "email.log").read_text()
    return text.count(needle)


def test_consumer_and_producer_survive_a_redis_restart_and_lose_nothing(
    own_redis, platform_env, smtp_sink, start_consumer, producer
):
    consumer = start_consumer("email")
    for n in range(5):
        welcome(f"before{n}@example.com")
    assert wait_for(lambda: len(smtp_sink.messages()) == 5, timeout_s=30)

    own_redis.kill()
    during = threading.Thread(target=welcome, args=("during@example.com",))
    during.start()  # retries until Redis is back, within ENQUEUE_TIMEOUT_S
    time.sleep(3)
    own_redis.start()
    during.join(30)
    for n in range(5):
        welcome(f"after{n}@example.com")

    assert wait_for(lambda: len(smtp_sink.messages()) == 11, timeout_s=60)
    time.sleep(1)
    recipients = [mail["To"] for mail in read_mail(smtp_sink)]
    assert len(recipients) == len(set(recipients)) == 11
    assert consumer.poll() is None
    assert log_lines(platform_env, "is unreachable") == 1
    assert log_lines(platform_env, "is reachable again") == 1
    assert log_lines(platform_env, "Traceback") == 0


def test_a_send_while_redis_stays_down_fails_clearly_after_the_timeout(
    own_redis, platform_env
):
    import dramatiq

    from shared_kernel import Settings, install_broker
    from shared_kernel.redis_broker import BrokerUnavailable

    platform_env["ENQUEUE_TIMEOUT_S"] = "1"
    broker = install_broker(Settings.from_env(platform_env))
    own_redis.kill()
    try:
        started = time.monotonic()
        with pytest.raises(BrokerUnavailable, match="was not stored"):
            welcome("lost@example.com")
        assert time.monotonic() - started < 5
    finally:
        broker.close()
        dramatiq.set_broker(None)


def test_a_delayed_message_held_by_a_live_consumer_runs_once_after_a_restart(
    own_redis, platform_env, smtp_sink, start_consumer, producer
):
    start_consumer("email")
    time.sleep(2)  # the consumer is up and polls its delay queue
    welcome("later@example.com", delay_ms=6_000)
    due_at = time.monotonic() + 6

    restart(own_redis, down_s=1.0)

    assert wait_for(lambda: len(smtp_sink.messages()) == 1, timeout_s=40)
    assert time.monotonic() >= due_at - 0.5
    time.sleep(2)
    assert [m["To"] for m in read_mail(smtp_sink)] == ["later@example.com"]


def test_a_retry_scheduled_while_redis_is_down_still_runs(
    own_redis, platform_env, scripted_smtp, start_consumer, producer
):
    sink = scripted_smtp(replies={"ada@example.com": ["451 4.3.0 later"]},
                         slow_first_s=3.0)
    start_consumer("email")
    welcome("ada@example.com")
    assert wait_for(lambda: sink.handler.attempts["ada@example.com"] == 1, timeout_s=30)

    own_redis.kill()  # the 451 arrives while Redis is away
    time.sleep(5)
    own_redis.start()

    assert wait_for(lambda: len(sink.messages()) == 1, timeout_s=60)
    assert sink.handler.attempts["ada@example.com"] == 2


def test_a_retry_that_cannot_be_stored_in_time_is_dead_lettered_not_dropped(
    own_redis, platform_env, scripted_smtp, start_consumer, producer
):
    platform_env["ENQUEUE_TIMEOUT_S"] = "1"
    sink = scripted_smtp(replies={"ada@example.com": ["451 4.3.0 later"]},
                         slow_first_s=3.0)
    start_consumer("email")
    welcome("ada@example.com")
    assert wait_for(lambda: sink.handler.attempts["ada@example.com"] == 1, timeout_s=30)

    own_redis.kill()  # down for longer than the 451, the key release and the
    time.sleep(12)    # retry's enqueue timeout together
    own_redis.start()
    client = own_redis.client()

    assert wait_for(lambda: dead_letter_ids(client, "email.welcome"), timeout_s=30)
    assert sink.messages() == []
