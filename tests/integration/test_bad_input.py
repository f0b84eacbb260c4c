"""Bad input never kills a consumer, nor strands the good messages behind it.

Each bad payload is put straight into Redis, as a buggy or hostile producer
would, or sent through the producer API. Each must end dead-lettered with a
reason and an ERROR line naming it, and the next good message must be done.
"""

import json
import uuid

import pytest

from shared_kernel import ImportDataset, SendWelcomeEmail, send
from tests.helpers import wait_for
from tests.integration.conftest import dead_letter_ids, read_mail


def dramatiq_message(actor: str, queue: str, args: list) -> bytes:
    return json.dumps(
        {
            "queue_name": queue,
            "actor_name": actor,
            "args": args,
            "kwargs": {},
            "options": {},
            "message_id": str(uuid.uuid4()),
            "message_timestamp": 0,
        }
    ).encode()


BAD_PAYLOADS = {
    "not JSON": b"\x00\xff this is not JSON",
    "JSON without Dramatiq's fields": b'{"hello": "world"}',
    "an unknown actor": dramatiq_message("no_such_actor", "email.welcome", []),
    "a payload breaking its contract": dramatiq_message(
        "send_welcome_email", "email.welcome", [{"to": "not-an-address", "name": "x"}]
    ),
    "a payload over the size limit": b'{"pad": "' + b"x" * (9 * 1024 * 1024) + b'"}',
}
EXPECTED_REASONS = {
    "not JSON": "not a Dramatiq message",
    "JSON without Dramatiq's fields": "not a Dramatiq message",
    "an unknown actor": "ActorNotFound",
    "a payload breaking its contract": "does not match the SendWelcomeEmail contract",
    "a payload over the size limit": "over the 8388608 byte limit",
}


def inject(client, queue: str, payload: bytes) -> str:
    redis_id = str(uuid.uuid4())
    client.hset(f"dramatiq:{queue}.msgs", redis_id, payload)
    client.rpush(f"dramatiq:{queue}", redis_id)
    return redis_id


def reason_of(client, queue: str, redis_id: str) -> str:
    raw = client.hget(f"platform:dead:reasons:{queue}", redis_id)
    return json.loads(raw)["reason"] if raw else ""


@pytest.mark.parametrize("kind", list(BAD_PAYLOADS))
def test_a_bad_payload_is_dead_lettered_and_the_next_good_message_is_done(
    kind, platform_env, redis_client, smtp_sink, start_consumer, producer
):
    consumer = start_consumer("email")
    bad_id = inject(redis_client, "email.welcome", BAD_PAYLOADS[kind])
    send(SendWelcomeEmail(to="good@example.com", name="Good"))

    assert wait_for(lambda: len(smtp_sink.messages()) == 1, timeout_s=30)
    # The reason is recorded just after the message moves to the dead letters.
    assert wait_for(
        lambda: EXPECTED_REASONS[kind]
        in reason_of(redis_client, "email.welcome", bad_id),
        timeout_s=10,
    )
    assert bad_id in dead_letter_ids(redis_client, "email.welcome")
    assert [mail["To"] for mail in read_mail(smtp_sink)] == ["good@example.com"]
    assert consumer.poll() is None
    errors = platform_env["LOG_DIR"] + "/email/errors.log"
    assert "dead-lettered" in open(errors).read()


@pytest.fixture
def csv_files(tmp_path):
    files = {
        "empty": b"",
        "binary": b"\x89PNG\r\n\x1a\n" + bytes(range(256)) * 8,
        "latin1": "ville;temp\u00e9rature\nZ\u00fcrich;12,5\nGen\u00e8ve;14,0\n".encode(
            "latin-1"
        ),
        "ragged": b"a,b,c\n1,2,3\n4,5\n6,7,8,9\n10,11,12\n",
    }
    paths = {}
    for name, content in files.items():
        paths[name] = tmp_path / f"{name}.csv"
        paths[name].write_bytes(content)
    return paths


def test_bad_csv_files_are_dead_lettered_with_the_reason_and_odd_ones_import(
    platform_env, redis_client, start_consumer, producer, csv_files
):
    start_consumer("data")
    for name in ("empty", "binary", "latin1", "ragged"):
        send(ImportDataset(source=str(csv_files[name]), dataset_name=name))

    assert wait_for(
        lambda: redis_client.hlen("platform:dead:reasons:data.import") == 2
        and redis_client.llen("dramatiq:report.build") == 2,
        timeout_s=60,
    )
    reasons = " | ".join(
        reason_of(redis_client, "data.import", redis_id)
        for redis_id in dead_letter_ids(redis_client, "data.import")
    )
    assert "empty" in reasons
    assert "not a text CSV" in reasons or "binary" in reasons
    events = [
        json.loads(redis_client.hget("dramatiq:report.build.msgs", redis_id))
        for redis_id in redis_client.lrange("dramatiq:report.build", 0, -1)
    ]
    profiles = {
        event["args"][0]["name"]: event["args"][0]["profile"] for event in events
    }
    assert profiles["latin1"]["rows"] == 2
    assert [c["name"] for c in profiles["latin1"]["columns"]] == [
        "ville",
        "temp\u00e9rature",
    ]
    assert profiles["ragged"]["rows"] == 2 and profiles["ragged"]["rejected_rows"] == 2


@pytest.mark.parametrize(
    "args, kwargs",
    [
        ("abc", {}),
        ([{"to": "a@example.com", "name": "a"}, 2], {}),
        ([{"to": "a@example.com", "name": "a"}], {"evil": 1}),
    ],
)
def test_a_payload_of_the_wrong_shape_is_dead_lettered_at_once(
    args, kwargs, platform_env, redis_client, start_consumer
):
    payload = json.dumps(
        {
            "queue_name": "email.welcome",
            "actor_name": "send_welcome_email",
            "args": args,
            "kwargs": kwargs,
            "options": {},
            "message_id": str(uuid.uuid4()),
            "message_timestamp": 0,
        }
    ).encode()
    start_consumer("email")
    bad_id = inject(redis_client, "email.welcome", payload)

    assert wait_for(
        lambda: reason_of(redis_client, "email.welcome", bad_id), timeout_s=30
    )
    reason = reason_of(redis_client, "email.welcome", bad_id)
    assert "not a Dramatiq message" in reason or "one JSON object argument" in reason
    assert bad_id in dead_letter_ids(redis_client, "email.welcome")


def test_a_dead_letter_reason_never_shows_a_token_or_password(
    platform_env, redis_client, start_consumer, producer, tmp_path
):
    import subprocess
    import sys

    from devtools.redis_server import free_port

    port = free_port()
    server = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "http.server",
            str(port),
            "--bind",
            "127.0.0.1",
            "--directory",
            str(tmp_path),
        ],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        start_consumer("data")
        send(
            ImportDataset(
                source=f"http://alice:Sup3rS3cret@127.0.0.1:{port}"
                "/missing.csv?token=T0ken",
                dataset_name="secret",
            )
        )
        assert wait_for(
            lambda: dead_letter_ids(redis_client, "data.import"), timeout_s=60
        )
    finally:
        server.terminate()
        server.wait(10)
    raw = b"".join(redis_client.hvals("platform:dead:reasons:data.import"))
    assert b"Sup3rS3cret" not in raw and b"T0ken" not in raw
