"""Dead letters as an operator sees them: secrets masked, a short preview."""

import json

import pytest

from shared_kernel.deadletter_store import (
    MASK,
    PREVIEW_CHARS,
    UnreadableDeadLetter,
    fresh_payload,
    mask_secrets,
    mask_url_credentials,
    preview_of,
)


def message(**fields) -> dict:
    base = {
        "queue_name": "email.welcome",
        "actor_name": "send_welcome_email",
        "args": [],
        "kwargs": {},
        "options": {"redis_message_id": "r-1"},
        "message_id": "m-1",
        "message_timestamp": 1,
    }
    return dict(base, **fields)


# Masking
@pytest.mark.parametrize(
    "name",
    [
        "password",
        "SMTP_PASSWORD",
        "api_secret",
        "access_token",
        "api_key",
        "idempotency_key",
        "Authorization",
        "auth",
        "credentials",
        "passwd",
    ],
)
def test_a_value_whose_key_names_a_secret_is_masked(name):
    masked = mask_secrets(message(kwargs={name: "hunter2", "to": "ada@example.com"}))

    assert masked["kwargs"] == {name: MASK, "to": "ada@example.com"}


def test_secrets_are_masked_at_any_depth_of_args_and_options():
    original = message(
        args=[{"to": "ada@example.com", "smtp": {"password": "hunter2", "port": 25}}],
        options={"redis_message_id": "r-1", "headers": [{"auth_token": "abc"}]},
    )

    masked = mask_secrets(original)

    assert masked["args"] == [
        {"to": "ada@example.com", "smtp": {"password": MASK, "port": 25}}
    ]
    assert masked["options"]["headers"] == [{"auth_token": MASK}]
    assert masked["options"]["redis_message_id"] == "r-1"
    assert "hunter2" in json.dumps(original), "the original is left untouched"


def test_a_whole_secret_structure_is_masked_not_only_strings():
    masked = mask_secrets(message(kwargs={"credentials": {"user": "u", "pw": "p"}}))

    assert masked["kwargs"] == {"credentials": MASK}


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("redis://:s3cret@cache:6379/0", "redis://:***@cache:6379/0"),
        ("https://ada:pa%40ss@example.com/x.csv", "https://ada:***@example.com/x.csv"),
        (
            "fetch https://a:b@h1/x and ftp://c:d@h2",
            "fetch https://a:***@h1/x and ftp://c:***@h2",
        ),
        (
            "https://example.com:8080/x?to=ada@example.com",
            "https://example.com:8080/x?to=ada@example.com",
        ),
        ("ada@example.com", "ada@example.com"),
    ],
)
def test_the_password_of_a_url_is_masked_and_nothing_else(text, expected):
    assert mask_url_credentials(text) == expected


def test_url_passwords_are_masked_inside_arguments_and_tracebacks():
    masked = mask_secrets(
        message(
            args=["https://ada:hunter2@example.com/sales.csv"],
            options={"traceback": "ConnectionError: redis://:hunter2@cache:6379"},
        )
    )

    assert "hunter2" not in json.dumps(masked)


# Preview
def test_the_preview_shows_args_and_kwargs_on_one_line():
    preview = preview_of(message(args=[{"to": "ada@example.com"}], kwargs={"n": 1}))

    assert preview == '[{"to":"ada@example.com"}] {"n":1}'


def test_a_long_preview_is_cut_to_200_characters():
    preview = preview_of(message(args=["x" * 1000, "line\nbreak"]))

    assert len(preview) == PREVIEW_CHARS
    assert preview.endswith("…")
    assert "\n" not in preview


def test_a_missing_payload_has_a_preview_that_says_so():
    assert preview_of({}) == "(no payload)"


# Fresh payloads for a requeue
def test_a_requeued_payload_has_its_retries_reset_and_no_traceback():
    stored = message(
        options={
            "redis_message_id": "r-1",
            "retries": 7,
            "traceback": "Traceback ...",
            "eta": 5,
            "password": "hunter2",
        },
        queue_name="email.welcome.DQ",
    )

    fresh = json.loads(fresh_payload(json.dumps(stored).encode(), "email.welcome"))

    assert fresh["options"] == {
        "redis_message_id": "r-1",
        "retries": 0,
        "password": "hunter2",
    }
    assert fresh["queue_name"] == "email.welcome"
    assert fresh["args"] == stored["args"]


def test_a_requeued_payload_is_encoded_compactly_like_dramatiq():
    fresh = fresh_payload(json.dumps(message(), indent=2).encode(), "email.welcome")

    assert b" " not in fresh and b"\n" not in fresh


def test_a_payload_that_is_not_json_cannot_be_requeued():
    with pytest.raises(UnreadableDeadLetter, match="not a JSON message"):
        fresh_payload(b"\x80\x04pickle", "email.welcome")


def test_a_dead_letter_whose_options_are_not_an_object_is_requeued_with_fresh_ones():
    import json as _json

    from shared_kernel.deadletter_store import fresh_payload

    raw = _json.dumps(
        {
            "queue_name": "email.welcome",
            "actor_name": "send_welcome_email",
            "args": [{}],
            "kwargs": {},
            "options": [],
            "message_id": "m",
            "message_timestamp": 1,
        }
    ).encode()

    fresh = _json.loads(fresh_payload(raw, "email.welcome"))

    assert fresh["options"] == {"retries": 0}
