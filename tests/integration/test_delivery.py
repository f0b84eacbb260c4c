"""Delivery you can trust: crashes, retries, duplicates and bad input lose nothing.

Every test runs real consumer processes against a real Redis server and a real
SMTP server. Heartbeats are shortened so that recovery is quick to observe.
"""

import json
import os
import signal
import time

import pytest

from shared_kernel import SendWelcomeEmail, send
from tests.helpers import wait_for
from tests.integration.conftest import dead_letter_ids, held_ids, read_mail

FAST_RECOVERY = {"HEARTBEAT_TIMEOUT_S": "3", "UPKEEP_INTERVAL_S": "0.5"}


@pytest.fixture
def fast_env(platform_env):
    platform_env.update(FAST_RECOVERY)
    return platform_env


def welcome(address: str, **options) -> None:
    send(SendWelcomeEmail(to=address, name=address.partition("@")[0]), **options)


def log_text(env, context: str) -> str:
    path = os.path.join(env["LOG_DIR"], context, f"{context}.log")
    return open(path).read() if os.path.exists(path) else ""


class TestCrashRecovery:
    def test_killed_consumer_messages_are_redelivered_once_within_the_bound(
        self, fast_env, scripted_smtp, start_consumer, producer, redis_client
    ):
        sink = scripted_smtp(slow_first_s=60.0)
        doomed = start_consumer("email", "--threads", "4", env=fast_env)
        addresses = [f"user{n}@example.com" for n in range(4)]
        for address in addresses:
            welcome(address)
        assert wait_for(lambda: held_ids(redis_client) == 4, timeout_s=30)
        survivor = start_consumer("email", "--threads", "4", env=fast_env)
        assert wait_for(
            lambda: log_text(fast_env, "email").count("Consumer email started") == 2,
            timeout_s=30,
        )

        killed_at = time.monotonic()
        doomed.send_signal(signal.SIGKILL)
        assert wait_for(lambda: len(sink.messages()) >= 4, timeout_s=60)
        recovery_s = time.monotonic() - killed_at

        mails = read_mail(sink)
        assert sorted(mail["To"] for mail in mails) == addresses
        assert len({mail["Message-ID"] for mail in mails}) == 4
        # The bound: heartbeat timeout 3 s + upkeep interval 0.5 s, plus a
        # fetch poll and a fast SMTP exchange.
        assert recovery_s < 3 + 0.5 + 2.5, f"recovery took {recovery_s:.1f} s"
        print(f"recovery after SIGKILL: {recovery_s:.2f} s")
        assert survivor.poll() is None


class TestDuplicates:
    def test_two_sends_with_one_idempotency_key_send_one_email(
        self, platform_env, smtp_sink, start_consumer, producer
    ):
        start_consumer("email")
        welcome("ada@example.com", idempotency_key="signup-42")
        welcome("ada@example.com", idempotency_key="signup-42")
        welcome("bob@example.com")

        assert wait_for(
            lambda: "Already done under idempotency key signup-42"
            in log_text(platform_env, "email"),
            timeout_s=30,
        )
        recipients = sorted(mail["To"] for mail in read_mail(smtp_sink))
        assert recipients == ["ada@example.com", "bob@example.com"]

    def test_the_message_id_header_is_derived_from_the_idempotency_key(
        self, platform_env, smtp_sink, start_consumer, producer
    ):
        from context_email.services import message_id_for

        start_consumer("email")
        welcome("ada@example.com", idempotency_key="signup-43")

        assert wait_for(lambda: len(smtp_sink.messages()) == 1, timeout_s=30)
        [mail] = read_mail(smtp_sink)
        assert mail["Message-ID"] == message_id_for("signup-43", sender=mail["From"])


class TestRetries:
    def test_an_smtp_server_refusing_with_4xx_then_accepting_gets_the_mail_once(
        self, platform_env, scripted_smtp, start_consumer, producer, redis_client
    ):
        sink = scripted_smtp(replies={"ada@example.com": ["451 4.3.0 try again later"]})
        start_consumer("email")
        welcome("ada@example.com")

        assert wait_for(lambda: len(sink.messages()) == 1, timeout_s=60)
        assert sink.handler.attempts["ada@example.com"] == 2
        time.sleep(1)
        assert len(sink.messages()) == 1
        assert dead_letter_ids(redis_client, "email.welcome") == []

    def test_an_smtp_server_answering_5xx_dead_letters_at_once_with_the_reason(
        self, platform_env, scripted_smtp, start_consumer, producer, redis_client
    ):
        sink = scripted_smtp(replies={"gone@example.com": ["550 5.1.1 no such user"]})
        start_consumer("email")
        welcome("gone@example.com")

        assert wait_for(
            lambda: redis_client.hlen("platform:dead:reasons:email.welcome"),
            timeout_s=30,
        )
        [redis_id] = dead_letter_ids(redis_client, "email.welcome")
        reason = json.loads(
            redis_client.hget("platform:dead:reasons:email.welcome", redis_id)
        )["reason"]
        assert "550" in reason and "PermanentError" in reason
        assert sink.handler.attempts["gone@example.com"] == 1
        assert sink.messages() == []
        assert "dead-lettered" in log_text(platform_env, "email")


class TestGracefulShutdown:
    def test_sigterm_finishes_in_flight_work_and_leaves_nothing_held(
        self, platform_env, scripted_smtp, start_consumer, producer, redis_client
    ):
        sink = scripted_smtp(slow_s=1.5)
        consumer = start_consumer("email", "--threads", "2")
        for n in range(3):
            welcome(f"user{n}@example.com")
        assert wait_for(lambda: held_ids(redis_client) == 3, timeout_s=30)

        consumer.send_signal(signal.SIGTERM)
        assert consumer.wait(30) == 0
        assert held_ids(redis_client) == 0
        finished = len(sink.messages())
        assert finished >= 2

        start_consumer("email")
        assert wait_for(lambda: len(sink.messages()) == 3, timeout_s=30)
        assert sorted(m["To"] for m in read_mail(sink)) == [
            "user0@example.com",
            "user1@example.com",
            "user2@example.com",
        ]

    def test_work_past_the_shutdown_timeout_is_returned_and_done_once(
        self, platform_env, scripted_smtp, start_consumer, producer, redis_client
    ):
        sink = scripted_smtp(slow_s=4.0)
        consumer = start_consumer("email", "--shutdown-timeout-s", "0.5")
        welcome("slow@example.com")
        assert wait_for(lambda: held_ids(redis_client) == 1, timeout_s=30)
        time.sleep(0.5)

        consumer.send_signal(signal.SIGTERM)
        assert consumer.wait(30) == 0
        assert held_ids(redis_client) == 0
        assert redis_client.llen("dramatiq:email.welcome") == 1

        start_consumer("email")
        assert wait_for(lambda: len(sink.messages()) == 1, timeout_s=30)
        time.sleep(1)
        assert len(sink.messages()) == 1


class TestUpkeep:
    def test_reasons_of_dead_letters_that_expired_are_pruned(
        self, fast_env, redis_client, start_consumer
    ):
        redis_client.zadd("dramatiq:email.welcome.XQ", {"kept": time.time() * 1000})
        redis_client.hset(
            "platform:dead:reasons:email.welcome",
            mapping={"kept": "{}", "expired": "{}"},
        )

        start_consumer("email", env=fast_env)

        assert wait_for(
            lambda: not redis_client.hexists(
                "platform:dead:reasons:email.welcome", "expired"
            ),
            timeout_s=30,
        )
        assert redis_client.hexists("platform:dead:reasons:email.welcome", "kept")

    def test_messages_handed_to_a_live_consumer_by_a_lost_fetch_are_requeued(
        self, fast_env, redis_client, smtp_sink, start_consumer
    ):
        import uuid

        start_consumer("email", env=fast_env)
        assert wait_for(
            lambda: list(redis_client.scan_iter("platform:consumers:*")), timeout_s=30
        )
        [key] = redis_client.scan_iter("platform:consumers:*")
        worker_id = key.decode().rpartition(":")[2]
        message = {
            "queue_name": "email.welcome",
            "actor_name": "send_welcome_email",
            "args": [{"to": "lost@example.com", "name": "Lost"}],
            "kwargs": {},
            "options": {},
            "message_id": str(uuid.uuid4()),
            "message_timestamp": int(time.time() * 1000),
        }
        redis_id = str(uuid.uuid4())
        # What Redis does for a fetch whose reply never reaches the consumer.
        redis_client.hset("dramatiq:email.welcome.msgs", redis_id, json.dumps(message))
        redis_client.sadd(f"dramatiq:__acks__.{worker_id}.email.welcome", redis_id)

        assert wait_for(lambda: len(smtp_sink.messages()) == 1, timeout_s=30)
        assert [m["To"] for m in read_mail(smtp_sink)] == ["lost@example.com"]
