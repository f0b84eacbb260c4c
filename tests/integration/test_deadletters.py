"""Dead letters on a real Redis: list, show, requeue and purge them.

Messages die the way they do in production: a real Dramatiq worker runs an
actor that raises ``PermanentError``, and the broker moves the message to its
dead-letter queue. The operator's side is the ``platform-dead`` command and
the store under it.
"""

import json
import subprocess
import sys
import threading
import uuid
from collections import Counter
from pathlib import Path

import dramatiq
import pytest

from shared_kernel.broker import build_broker
from shared_kernel.deadletter_store import DeadLetterStore
from shared_kernel.deadletters import DeadLetterReasons, reasons_key
from shared_kernel.errors import PermanentError, TransientError
from shared_kernel.middleware import current_message
from shared_kernel.queues import QueueNames
from shared_kernel.settings import Settings
from tests.helpers import wait_for

BIN = Path(sys.executable).parent
QUEUE = str(QueueNames.EMAIL_WELCOME)
SECRET = "hunter2"
REASON = "PermanentError: mailbox user0@example.com does not exist"


@pytest.fixture
def broker(redis_server, redis_client):
    broker = build_broker(Settings.from_env({"REDIS_URL": redis_server.url}))
    if not any(isinstance(m, DeadLetterReasons) for m in broker.middleware):
        broker.add_middleware(DeadLetterReasons())
    dramatiq.set_broker(broker)
    worker = dramatiq.Worker(broker, worker_threads=2, worker_timeout=100)
    worker.start()
    yield broker
    worker.stop()
    broker.close()
    dramatiq.set_broker(None)


@pytest.fixture
def store(redis_client) -> DeadLetterStore:
    return DeadLetterStore(redis_client)


class Mailbox:
    """An actor that fails each message's first ``failures`` runs, then succeeds.

    A message's first run raises ``TransientError`` when ``transient_first`` is
    set (so it is retried once); every other failing run raises
    ``PermanentError``, which dead-letters it at once. Each run is recorded
    with the retry count and traceback the message arrived with.
    """

    def __init__(self, *, queue: str = QUEUE, failures: int = 1,
                 transient_first: bool = False) -> None:
        self.failures = failures
        self.transient_first = transient_first
        self.runs: list[dict] = []
        self._lock = threading.Lock()
        self.actor = dramatiq.actor(
            self._deliver, actor_name=f"deliver_{uuid.uuid4().hex[:8]}",
            queue_name=queue, throws=(PermanentError,), max_retries=3,
            min_backoff=10, max_backoff=50,
        )

    def send(self, to: str = "ada@example.com") -> dramatiq.Message:
        return self.actor.send(
            to, password=SECRET, source=f"https://ada:{SECRET}@example.com/x.csv"
        )

    def runs_of(self, message_id: str) -> list[dict]:
        return [run for run in self.runs if run["message_id"] == message_id]

    def _deliver(self, to: str, **_credentials) -> None:
        message = current_message()
        with self._lock:
            self.runs.append({
                "message_id": message.message_id,
                "retries": message.options.get("retries", 0),
                "traceback": "traceback" in message.options,
            })
            attempt = len(self.runs_of(message.message_id))
        if attempt > self.failures:
            return
        if attempt == 1 and self.transient_first:
            raise TransientError("SMTP server busy")
        raise PermanentError(f"mailbox {to} does not exist")


def dead(env: dict[str, str], *args: str) -> subprocess.CompletedProcess:
    return subprocess.run([str(BIN / "platform-dead"), *args], env=env,
                          capture_output=True, text=True, timeout=60)


def kill(mailbox: Mailbox, store: DeadLetterStore, count: int = 1,
         queue: str = QUEUE) -> list[str]:
    """Send ``count`` messages, wait until they are dead, return their Redis ids."""
    before = store.count(queue)
    sent = [mailbox.send(f"user{i}@example.com") for i in range(count)]
    message_ids = {message.message_id for message in sent}
    assert wait_for(lambda: store.count(queue) == before + count)
    letters = store.list(queue, limit=before + count)
    return [letter.redis_id for letter in letters if letter.message_id in message_ids]


# Listing and inspecting
def test_a_permanently_failed_message_is_listed_with_its_reason_and_no_secret(
    broker, store, platform_env
):
    mailbox = Mailbox()
    [redis_id] = kill(mailbox, store)

    table = dead(platform_env, "list", "--queue", QUEUE)
    rows = json.loads(dead(platform_env, "list", "--queue", QUEUE, "--json").stdout)

    assert table.returncode == 0, table.stderr
    assert table.stdout.splitlines()[0].split() == [
        "QUEUE", "ID", "ACTOR", "AGE", "REASON", "PREVIEW"]
    assert redis_id in table.stdout and mailbox.actor.actor_name in table.stdout
    assert REASON in table.stdout
    assert table.stdout.splitlines()[-1] == "1 of 1 dead letters shown"
    assert [row["id"] for row in rows] == [redis_id]
    assert rows[0]["reason"] == REASON
    assert rows[0]["preview"] == (
        '["user0@example.com"] {"password":"***",'
        '"source":"https://ada:***@example.com/x.csv"}'
    )
    assert SECRET not in table.stdout + json.dumps(rows)


def test_listing_a_context_shows_only_the_queues_it_consumes(
    broker, store, platform_env
):
    [email_id] = kill(Mailbox(), store)
    [data_id] = kill(Mailbox(queue=QueueNames.DATA_IMPORT), store,
                     queue=QueueNames.DATA_IMPORT)

    data = json.loads(dead(platform_env, "list", "--context", "data", "--json").stdout)
    every = json.loads(dead(platform_env, "list", "--json").stdout)

    assert [row["id"] for row in data] == [data_id]
    assert [row["id"] for row in every] == [data_id, email_id]


def test_an_empty_listing_says_so(broker, platform_env):
    result = dead(platform_env, "list", "--context", "report")

    assert result.returncode == 0
    assert result.stdout == "no dead letters in report.build, notification, log\n"


def test_dead_letters_are_paged_newest_first(broker, store):
    ids = kill(Mailbox(), store, count=5)

    pages = [store.list(QUEUE, offset=offset, limit=2) for offset in (0, 2, 4)]
    letters = [letter for page in pages for letter in page]

    assert [len(page) for page in pages] == [2, 2, 1]
    assert sorted(letter.redis_id for letter in letters) == sorted(ids)
    assert [letter.dead_at for letter in letters] == sorted(
        (letter.dead_at for letter in letters), reverse=True)
    assert store.count(QUEUE) == 5


def test_show_prints_the_whole_dead_letter_with_secrets_masked(
    broker, store, platform_env
):
    mailbox = Mailbox(failures=2, transient_first=True)
    [redis_id] = kill(mailbox, store)

    text = dead(platform_env, "show", QUEUE, redis_id)
    shown = json.loads(dead(platform_env, "show", QUEUE, redis_id, "--json").stdout)

    assert text.returncode == 0, text.stderr
    assert f"actor       {mailbox.actor.actor_name}" in text.stdout
    assert "retries     1" in text.stdout
    assert "TransientError: SMTP server busy" in text.stdout  # the traceback
    assert shown["payload"]["kwargs"] == {
        "password": "***", "source": "https://ada:***@example.com/x.csv"}
    assert shown["payload"]["args"] == ["user0@example.com"]
    assert SECRET not in text.stdout + json.dumps(shown)


def test_a_dead_letter_without_a_recorded_reason_shows_unknown(
    broker, store, redis_client
):
    [redis_id] = kill(Mailbox(), store)
    redis_client.hdel(reasons_key(QUEUE), redis_id)

    assert store.get(QUEUE, redis_id).reason == "unknown"


# Requeueing
def test_a_requeued_dead_letter_runs_again_with_its_retries_reset(
    broker, store, redis_client, platform_env
):
    mailbox = Mailbox(failures=2, transient_first=True)
    [redis_id] = kill(mailbox, store)
    letter = store.get(QUEUE, redis_id)
    assert letter.payload["options"]["retries"] == 1

    result = dead(platform_env, "requeue", QUEUE, redis_id)

    assert result.returncode == 0, result.stderr
    assert result.stdout == (
        f"requeued dead letter {redis_id} of {QUEUE} "
        f"({mailbox.actor.actor_name}, message {letter.message_id})\n"
    )
    assert wait_for(lambda: len(mailbox.runs) == 3)
    assert mailbox.runs[-1] == {"message_id": letter.message_id, "retries": 0,
                                "traceback": False}
    assert store.count(QUEUE) == 0
    assert redis_client.hlen(reasons_key(QUEUE)) == 0
    assert wait_for(lambda: redis_client.hlen(f"dramatiq:{QUEUE}.msgs") == 0)


def test_requeue_all_sends_every_dead_letter_back_once(broker, store, platform_env):
    mailbox = Mailbox()
    kill(mailbox, store, count=3)

    result = dead(platform_env, "requeue", QUEUE, "--all")

    assert result.stdout == f"requeued 3 dead letters of {QUEUE}\n"
    assert wait_for(lambda: len(mailbox.runs) == 6)
    assert set(Counter(run["message_id"] for run in mailbox.runs).values()) == {2}
    assert store.count(QUEUE) == 0


def test_requeue_all_works_through_the_dead_letters_in_batches(broker, store):
    mailbox = Mailbox()
    kill(mailbox, store, count=5)

    assert store.requeue_all(QUEUE, batch_size=2) == 5
    assert wait_for(lambda: len(mailbox.runs) == 10)
    assert store.count(QUEUE) == 0


def test_requeue_all_does_not_chase_messages_that_fail_again(broker, store):
    mailbox = Mailbox(failures=1_000)
    kill(mailbox, store, count=3)

    assert store.requeue_all(QUEUE, batch_size=1) == 3
    assert wait_for(lambda: len(mailbox.runs) == 6 and store.count(QUEUE) == 3)


def test_a_payload_that_is_not_a_message_stays_dead_when_all_are_requeued(
    broker, store, redis_client, platform_env
):
    mailbox = Mailbox()
    [good_id] = kill(mailbox, store)
    # A faulty producer wrote garbage; the consumer dead-letters it on fetch.
    redis_client.hset(f"dramatiq:{QUEUE}.msgs", "poison", b"\x80not json")
    redis_client.rpush(f"dramatiq:{QUEUE}", "poison")
    assert wait_for(lambda: store.count(QUEUE) == 2)

    listed = json.loads(dead(platform_env, "list", "--queue", QUEUE, "--json").stdout)
    single = dead(platform_env, "requeue", QUEUE, "poison")
    every = dead(platform_env, "requeue", QUEUE, "--all")

    poison = next(row for row in listed if row["id"] == "poison")
    assert poison["preview"] == "(not a JSON message: 9 bytes)"
    assert "payload is not a Dramatiq message" in poison["reason"]
    assert single.returncode == 2
    assert "is not a JSON message" in single.stderr
    assert every.stdout.startswith(f"requeued 1 dead letter of {QUEUE}\n"
                                   "still dead: 1 dead letter")
    assert wait_for(lambda: len(mailbox.runs) == 2)
    assert store.get(QUEUE, good_id) is None
    assert [letter.redis_id for letter in store.list(QUEUE)] == ["poison"]


def test_a_dead_letter_requeued_by_many_at_once_runs_once_more(
    broker, store, redis_client
):
    mailbox = Mailbox()
    [redis_id] = kill(mailbox, store)
    start = threading.Barrier(8)
    results: list[bool] = []

    def requeue() -> None:
        start.wait()
        results.append(store.requeue(QUEUE, redis_id))

    threads = [threading.Thread(target=requeue) for _ in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()

    assert sorted(results) == [False] * 7 + [True]
    assert wait_for(lambda: len(mailbox.runs) == 2)
    assert wait_for(lambda: redis_client.hlen(f"dramatiq:{QUEUE}.msgs") == 0)
    assert redis_client.llen(f"dramatiq:{QUEUE}") == 0
    assert len(mailbox.runs) == 2


def test_a_dead_letter_that_is_gone_is_not_requeued(broker, store):
    [redis_id] = kill(Mailbox(), store)
    store.purge(QUEUE, redis_id)

    assert store.requeue(QUEUE, redis_id) is False
    assert store.get(QUEUE, redis_id) is None


@pytest.mark.parametrize("command", ["show", "requeue", "purge"])
def test_an_unknown_id_is_an_error_that_says_how_to_find_ids(
    broker, platform_env, command
):
    result = dead(platform_env, command, QUEUE, "no-such-id")

    assert result.returncode == 1
    assert result.stderr == (f"error: no dead letter 'no-such-id' in {QUEUE}; "
                             f"see its ids with: platform-dead list --queue {QUEUE}\n")


# Purging
def test_purging_all_dead_letters_needs_yes(broker, store, redis_client, platform_env):
    kill(Mailbox(), store, count=2)

    refused = dead(platform_env, "purge", QUEUE, "--all")
    assert refused.returncode == 2
    assert refused.stderr == f"error: add --yes to purge 2 dead letters of {QUEUE}\n"
    assert store.count(QUEUE) == 2

    done = dead(platform_env, "purge", QUEUE, "--all", "--yes")

    assert done.returncode == 0, done.stderr
    assert done.stdout == f"purged 2 dead letters of {QUEUE}\n"
    assert not redis_client.exists(f"dramatiq:{QUEUE}.XQ", f"dramatiq:{QUEUE}.XQ.msgs",
                                   reasons_key(QUEUE))


def test_purging_one_dead_letter_leaves_the_others(
    broker, store, redis_client, platform_env
):
    gone, kept = kill(Mailbox(), store, count=2)

    result = dead(platform_env, "purge", QUEUE, gone)

    assert result.stdout == f"purged dead letter {gone} of {QUEUE}\n"
    assert [letter.redis_id for letter in store.list(QUEUE)] == [kept]
    assert redis_client.hget(f"dramatiq:{QUEUE}.XQ.msgs", gone) is None
    assert redis_client.hkeys(reasons_key(QUEUE)) == [kept.encode()]
