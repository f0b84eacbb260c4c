"""The kernel's fast paths keep Dramatiq's delivery: bulk sends, wake-ups,
group-committed acknowledgements and the prefetch hold, on a real Redis."""

import threading
import time

import redis

import dramatiq
import pytest
from dramatiq import Worker
from dramatiq.brokers.redis import RedisBroker

from shared_kernel import (
    ContractError,
    MessageTooLarge,
    RecordLog,
    SendWelcomeEmail,
    Settings,
    build_broker,
    send_many,
)
from shared_kernel.runner import build_worker
from shared_kernel.stats import read_counters
from shared_kernel.tracing import read_trace
from tests.helpers import wait_for


def kernel_broker(redis_server, **env):
    settings = Settings.from_env(
        {"REDIS_URL": redis_server.url, "PLATFORM_ENV": "local", **env}
    )
    return build_broker(settings), settings


@pytest.fixture
def broker(redis_server, redis_client):
    broker, _ = kernel_broker(redis_server)
    yield broker
    broker.close()


def recording_actor(broker, queue: str, seen: list, *, sleep_s: float = 0.0):
    def record(entry):
        time.sleep(sleep_s)
        seen.append(entry["text"])

    return dramatiq.actor(
        record, actor_name="record_log", queue_name=queue, broker=broker
    )


def running_worker(broker, settings=None, *, threads=2):
    settings = settings or Settings.from_env({"PLATFORM_ENV": "local"})
    worker = build_worker(broker, ["log"], threads=threads, settings=settings)
    worker.start()
    return worker


def test_send_many_stores_every_message_for_a_plain_dramatiq_worker(
    broker, redis_server, redis_client
):
    contracts = [RecordLog(text=f"line {i}", origin="test") for i in range(2500)]
    sent = send_many(contracts, batch_size=1000, broker=broker)

    assert len(sent) == 2500
    assert redis_client.llen("dramatiq:log") == 2500
    assert read_counters(redis_client, ["log"])["log"]["sent"] == 2500

    plain = RedisBroker(client=redis_server.client())
    seen: list[str] = []
    recording_actor(plain, "log", seen)
    worker = Worker(plain, worker_threads=4)
    worker.start()
    try:
        wait_for(lambda: len(seen) == 2500, timeout_s=60)
    finally:
        worker.stop()
    assert sorted(seen) == sorted(c.text for c in contracts)


def test_send_many_refuses_an_item_that_is_not_a_contract_by_its_position(broker):
    items = [RecordLog(text="fine", origin="test"), {"text": "a dict"}]
    with pytest.raises(ContractError, match="item 1 is a dict, not a contract"):
        send_many(items, broker=broker)


@pytest.mark.parametrize("size", [0, 1001])
def test_send_many_refuses_a_batch_size_out_of_range(broker, size):
    with pytest.raises(ContractError, match=f"batch_size .* got {size}"):
        send_many([RecordLog(text="x", origin="test")], batch_size=size, broker=broker)


def test_a_batch_stored_again_after_a_lost_reply_is_not_doubled(broker, redis_client):
    entries = [(f"id-{i}", b'{"x":1}') for i in range(10)]
    assert broker.messages.store("log", entries, counter="sent") == 10
    # The kernel's retry, or the client's own, sends the same call again.
    assert broker.messages.store("log", entries, counter="sent") == 0
    assert redis_client.llen("dramatiq:log") == 10
    assert read_counters(redis_client, ["log"])["log"]["sent"] == 10


def test_payloads_holding_newlines_are_stored_whole(broker, redis_client):
    # An encoder other than JSON (pickle) may write raw newlines.
    entries = [(f"id-{i}", b"\x80\x04line\n%d\n\nend" % i) for i in range(5)]
    assert broker.messages.store("log", entries, counter="sent") == 5
    assert broker.messages.store("log", entries, counter="sent") == 0
    assert redis_client.lrange("dramatiq:log", 0, -1) == [
        redis_id.encode() for redis_id, _ in entries
    ]
    assert redis_client.hgetall("dramatiq:log.msgs") == {
        redis_id.encode(): data for redis_id, data in entries
    }


def test_an_idle_consumer_is_woken_by_a_send_long_before_its_poll(redis_server,
                                                                   redis_client):
    broker, settings = kernel_broker(redis_server, IDLE_POLL_S="30")
    seen: list[str] = []
    recording_actor(broker, "log", seen)
    worker = running_worker(broker, settings)
    try:
        time.sleep(1.5)  # long enough for a plain consumer to back off to 1 s
        started = time.monotonic()
        send_many([RecordLog(text="wake up", origin="test")], broker=broker)
        wait_for(lambda: seen == ["wake up"], timeout_s=10)
        assert time.monotonic() - started < 1.0
    finally:
        worker.stop()
        broker.close()


def test_a_message_from_a_plain_producer_is_found_by_the_idle_poll(
    redis_server, redis_client
):
    broker, settings = kernel_broker(redis_server, IDLE_POLL_S="0.5")
    seen: list[str] = []
    recording_actor(broker, "log", seen)
    worker = running_worker(broker, settings)
    plain = RedisBroker(client=redis_server.client())
    plain_actor = recording_actor(plain, "log", [])
    try:
        time.sleep(1.0)
        plain_actor.send({"text": "no wake notice"})
        wait_for(lambda: seen == ["no wake notice"], timeout_s=10)
    finally:
        worker.stop()
        broker.close()


def test_group_committed_messages_are_acknowledged_counted_and_traced(
    broker, redis_client
):
    seen: list[str] = []
    recording_actor(broker, "log", seen)
    worker = running_worker(broker, threads=8)
    contracts = [RecordLog(text=str(i), origin="test") for i in range(3000)]
    sent = send_many(contracts, broker=broker)
    try:
        wait_for(lambda: redis_client.hlen("dramatiq:log.msgs") == 0, timeout_s=60)
    finally:
        worker.stop()
    assert sorted(seen, key=int) == [str(i) for i in range(3000)]
    assert read_counters(redis_client, ["log"])["log"]["processed"] == 3000
    hops = read_trace(redis_client, sent[0].options["correlation_id"])
    assert [hop["outcome"] for hop in hops] == ["done"]
    assert not list(redis_client.scan_iter("platform:claim:*"))
    assert len(list(redis_client.scan_iter("platform:done:*"))) == 3000


def test_a_slow_consumer_returns_what_its_threads_did_not_start_in_time(
    redis_server, redis_client
):
    env = {"PREFETCH_HOLD_S": "0.5", "CONSUMER_PREFETCH": "100"}
    slow, slow_settings = kernel_broker(redis_server, **env)
    slow_seen: list[str] = []
    recording_actor(slow, "log", slow_seen, sleep_s=0.5)
    send_many([RecordLog(text=str(i), origin="t") for i in range(40)], broker=slow)
    slow_worker = running_worker(slow, slow_settings, threads=1)
    time.sleep(0.3)  # the slow consumer fetches first

    fast, fast_settings = kernel_broker(redis_server, **env)
    fast_seen: list[str] = []
    recording_actor(fast, "log", fast_seen)
    fast_worker = running_worker(fast, fast_settings, threads=4)
    try:
        wait_for(lambda: len(slow_seen) + len(fast_seen) == 40, timeout_s=30)
    finally:
        slow_worker.stop()
        fast_worker.stop()
        slow.close()
        fast.close()
    assert len(slow_seen) < 10
    assert sorted(slow_seen + fast_seen, key=int) == [str(i) for i in range(40)]


def test_a_stopped_consumer_returns_its_prefetched_messages(redis_server,
                                                          redis_client):
    broker, settings = kernel_broker(redis_server, PREFETCH_HOLD_S="60")
    seen: list[str] = []
    started = threading.Event()

    def slow(entry):
        started.set()
        time.sleep(0.3)
        seen.append(entry["text"])

    dramatiq.actor(slow, actor_name="record_log", queue_name="log", broker=broker)
    send_many([RecordLog(text=str(i), origin="t") for i in range(50)], broker=broker)
    worker = running_worker(broker, settings, threads=1)
    assert started.wait(10)
    worker.stop(timeout=5000)
    broker.release(["log"])
    broker.close()

    waiting = redis_client.llen("dramatiq:log")
    assert len(seen) + waiting == 50
    assert waiting > 0
    assert not list(redis_client.scan_iter("dramatiq:__acks__.*"))
    # Claims of returned messages are free: another consumer runs them now.
    assert not list(redis_client.scan_iter("platform:claim:*"))


def test_send_many_inside_a_task_gives_each_contract_its_own_key(
    broker, redis_client
):
    def fan_out(entry):
        send_many(
            [SendWelcomeEmail(to=f"u{i}@example.com", name="U") for i in range(3)],
            broker=broker,
        )

    dramatiq.actor(fan_out, actor_name="record_log", queue_name="log", broker=broker)
    worker = running_worker(broker)
    send_many([RecordLog(text="go", origin="t")], broker=broker)
    try:
        wait_for(lambda: redis_client.llen("dramatiq:email.welcome") == 3)
    finally:
        worker.stop()
    payloads = redis_client.hvals("dramatiq:email.welcome.msgs")
    options = [dramatiq.Message.decode(p).options for p in payloads]
    assert len({o["idempotency_key"] for o in options}) == 3
    # They carry on the task's correlation.
    assert len({o["correlation_id"] for o in options}) == 1


def test_send_many_gives_each_its_own_correlation_unless_one_is_given(broker):
    contracts = [RecordLog(text=f"line {i}", origin="test") for i in range(5)]
    apart = send_many(contracts, broker=broker)
    together = send_many(contracts, correlation_id="order-7", broker=broker)

    assert len({m.options["correlation_id"] for m in apart}) == 5
    assert {m.options["correlation_id"] for m in together} == {"order-7"}


def test_a_busy_consumer_leaves_waiting_messages_to_an_idle_one(
    redis_server, redis_client
):
    env = {"PREFETCH_HOLD_S": "0.5"}
    busy, busy_settings = kernel_broker(redis_server, **env)
    busy_seen: list[str] = []
    recording_actor(busy, "log", busy_seen, sleep_s=2.0)
    send_many([RecordLog(text=str(i), origin="t") for i in range(20)], broker=busy)
    busy_worker = running_worker(busy, busy_settings, threads=2)
    wait_for(lambda: redis_client.llen("dramatiq:log") < 20, timeout_s=10)

    idle, idle_settings = kernel_broker(redis_server, **env)
    idle_seen: list[str] = []
    recording_actor(idle, "log", idle_seen)
    idle_worker = running_worker(idle, idle_settings, threads=4)
    try:
        wait_for(lambda: len(busy_seen) + len(idle_seen) == 20, timeout_s=30)
    finally:
        busy_worker.stop()
        idle_worker.stop()
        busy.close()
        idle.close()
    # Only what its two threads started at once; nothing waited on them.
    assert len(busy_seen) == 2
    assert sorted(busy_seen + idle_seen, key=int) == [str(i) for i in range(20)]


def test_a_retry_grown_over_the_size_limit_is_dead_lettered_not_lost(
    broker, redis_client
):
    broker.max_message_bytes = 3000  # stands in for the 8 MiB limit
    attempts: list[int] = []

    def flaky(entry):
        attempts.append(1)
        raise ConnectionError("SMTP 451, try later")  # a transient failure

    dramatiq.actor(flaky, actor_name="record_log", queue_name="log", broker=broker)
    # Near the limit: Dramatiq adds the traceback to the retry's copy.
    send_many([RecordLog(text="x" * 1900, origin="y" * 700)], broker=broker)
    worker = running_worker(broker, threads=1)
    try:
        wait_for(lambda: redis_client.zcard("dramatiq:log.XQ") == 1, timeout_s=10)
    finally:
        worker.stop()
    assert attempts == [1]
    assert redis_client.hlen("dramatiq:log.msgs") == 0


def test_upkeep_keeps_beating_after_an_unexpected_redis_error(
    broker, redis_client, monkeypatch
):
    from shared_kernel.upkeep import Upkeep

    upkeep = next(m for m in broker.middleware if isinstance(m, Upkeep))
    real_run_once, passes = upkeep.run_once, []

    def failing_first(*args):
        passes.append(1)
        if len(passes) == 1:
            raise redis.ResponseError("READONLY You can't write against a replica")
        real_run_once(*args)

    monkeypatch.setattr(upkeep, "run_once", failing_first)
    monkeypatch.setattr(upkeep, "interval_s", 0.1)
    worker = running_worker(broker)
    try:
        wait_for(lambda: len(passes) >= 3, timeout_s=5)
        beat = redis_client.zscore("dramatiq:__heartbeats__", broker.broker_id)
    finally:
        worker.stop()
    assert beat is not None


def test_send_many_names_a_message_over_the_limit_and_lists_what_it_stored(
    broker, redis_client
):
    broker.max_message_bytes = 3000
    contracts = [RecordLog(text=str(i), origin="test") for i in range(12)]
    contracts[7] = RecordLog(text="x" * 1900, origin="y" * 2000)
    with pytest.raises(MessageTooLarge, match=r"item 7 \(RecordLog\): .* 4 of 12 "
                       r"messages were stored") as refused:
        send_many(contracts, batch_size=4, broker=broker)

    stored = refused.value.stored
    assert [m.args[0]["text"] for m in stored] == ["0", "1", "2", "3"]
    assert redis_client.llen("dramatiq:log") == 4


@pytest.mark.parametrize("size", [True, 2.5, "5", None])
def test_send_many_refuses_a_batch_size_that_is_not_a_whole_number(broker, size):
    with pytest.raises(ContractError, match="batch_size must be a whole number"):
        send_many([RecordLog(text="x", origin="test")], batch_size=size, broker=broker)
    assert not broker.client.llen("dramatiq:log")
