"""What the dashboard reads from Redis, one bounded page at a time.

A page of waiting messages is one LRANGE of the queue's list and one HMGET of
their payloads; a page of dead letters is the store's own bounded read. Every
payload shown has its secrets masked and is cut to a readable size.
"""

import json
import time
from dataclasses import dataclass
from typing import Any

import redis
from dramatiq.common import q_name

from shared_kernel.broker import NAMESPACE
from shared_kernel.deadletter_store import DeadLetter, DeadLetterStore
from shared_kernel.deadletter_store import mask_secrets, preview_of

PER_PAGE = 20
SHOWN_PAYLOAD_CHARS = 4000


@dataclass(frozen=True, slots=True)
class Page:
    """One page of a longer list, numbered from 1."""

    items: list[Any]
    number: int
    per_page: int
    total: int

    @property
    def last(self) -> int:
        """Return the number of the last page (1 for an empty list)."""
        return _last_page(self.total, self.per_page)

    @property
    def first_position(self) -> int:
        """Return the position in the whole list of this page's first item."""
        return (self.number - 1) * self.per_page + 1


@dataclass(frozen=True, slots=True)
class WaitingMessage:
    """A message waiting in its queue, as an operator inspects it."""

    redis_id: str
    message_id: str
    actor: str
    age_s: float | None
    retries: int
    preview: str
    payload: str


def waiting_page(client: redis.Redis, queue: str, number: int) -> Page:
    """Return page ``number`` of ``queue``'s waiting messages, next to run first."""
    key = f"{NAMESPACE}:{q_name(queue)}"
    total = client.llen(key)
    number = _clamp(number, total)
    start = (number - 1) * PER_PAGE
    ids = [_text(i) for i in client.lrange(key, start, start + PER_PAGE - 1)]
    raws = client.hmget(f"{key}.msgs", ids) if ids else []
    now_s = time.time()
    items = [_waiting(i, raw, now_s) for i, raw in zip(ids, raws, strict=True)]
    return Page(items, number, PER_PAGE, total)


def dead_page(store: DeadLetterStore, queue: str, number: int) -> Page:
    """Return page ``number`` of ``queue``'s dead letters, newest first."""
    total = store.count(queue)
    number = _clamp(number, total)
    items = store.list(queue, offset=(number - 1) * PER_PAGE, limit=PER_PAGE)
    return Page(items, number, PER_PAGE, total)


def shown_payload(letter: DeadLetter | dict[str, Any]) -> str:
    """Return a (masked) payload as indented JSON of readable size."""
    payload = letter.payload if isinstance(letter, DeadLetter) else letter
    options = {k: v for k, v in payload.get("options", {}).items() if k != "traceback"}
    text = json.dumps(dict(payload, options=options), indent=2, ensure_ascii=False,
                      default=str)
    if len(text) <= SHOWN_PAYLOAD_CHARS:
        return text
    return f"{text[:SHOWN_PAYLOAD_CHARS]}\n… ({len(text)} characters in all)"


def _waiting(redis_id: str, raw: bytes | None, now_s: float) -> WaitingMessage:
    message = _json_object(raw)
    masked = mask_secrets(message)
    sent_ms = message.get("message_timestamp")
    retries = masked.get("options", {}).get("retries")
    if raw is None:
        preview = "(taken by a consumer just now)"
    elif not message:
        preview = f"(not a JSON message: {len(raw)} bytes)"
    else:
        preview = preview_of(masked)
    return WaitingMessage(
        redis_id=redis_id,
        message_id=str(message.get("message_id", "")),
        actor=str(message.get("actor_name", "")),
        age_s=max(0.0, now_s - sent_ms / 1000) if isinstance(sent_ms, int) else None,
        retries=retries if isinstance(retries, int) else 0,
        preview=preview,
        payload=shown_payload(masked) if message else "",
    )


def _clamp(number: int, total: int) -> int:
    return min(max(number, 1), _last_page(total))


def _last_page(total: int, per_page: int = PER_PAGE) -> int:
    return max(1, -(-total // per_page))


def _json_object(raw: bytes | None) -> dict[str, Any]:
    try:
        value = json.loads(raw) if raw is not None else {}
    except ValueError:
        return {}
    return value if isinstance(value, dict) else {}


def _text(value: bytes | str) -> str:
    return value.decode() if isinstance(value, bytes) else value
