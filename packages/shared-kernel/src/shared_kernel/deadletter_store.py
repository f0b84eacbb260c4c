"""Dead letters in Redis: list, inspect, requeue and purge them.

Dramatiq keeps a dead-lettered message's Redis id in the sorted set
``<ns>:<queue>.XQ`` (scored by the time it died, in ms) and its payload in the
hash ``<ns>:<queue>.XQ.msgs``, but ships nothing to read or move them.
:class:`DeadLetterStore` reads them in bounded slices (never ``KEYS``, never a
whole hash) and moves them back to their queue in one Lua script each batch,
so a worker never finds a message both dead and waiting. Payloads it returns
have their secrets masked; what it requeues is the payload as stored, with a
fresh retry count.
"""

from __future__ import annotations

import json
import time
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

import redis
from dramatiq.common import q_name

from shared_kernel.deadletters import reasons_key
from shared_kernel.redaction import redact
from shared_kernel.errors import PlatformError

DEFAULT_NAMESPACE = "dramatiq"
BATCH_SIZE = 500
PREVIEW_CHARS = 200
MASK = "***"
UNKNOWN_REASON = "unknown"
SECRET_MARKERS = ("password", "passwd", "secret", "token", "key", "auth", "credential")


# KEYS: XQ, XQ.msgs, queue, queue.msgs, reasons. ARGV: id, payload, id, payload...
# ZREM both checks that the id is still dead and claims it, so two callers
# racing on one id move it once.
_REQUEUE = """
local moved = 0
for i = 1, #ARGV, 2 do
  local id = ARGV[i]
  if redis.call('ZREM', KEYS[1], id) == 1 then
    redis.call('HSET', KEYS[4], id, ARGV[i + 1])
    redis.call('RPUSH', KEYS[3], id)
    redis.call('HDEL', KEYS[2], id)
    redis.call('HDEL', KEYS[5], id)
    moved = moved + 1
  end
end
return moved
"""

# KEYS: XQ, XQ.msgs, reasons. ARGV: the id to delete, or none for all.
_PURGE = """
if #ARGV == 0 then
  local count = redis.call('ZCARD', KEYS[1])
  redis.call('UNLINK', KEYS[1], KEYS[2], KEYS[3])
  return count
end
local removed = redis.call('ZREM', KEYS[1], ARGV[1])
redis.call('HDEL', KEYS[2], ARGV[1])
redis.call('HDEL', KEYS[3], ARGV[1])
return removed
"""


class UnreadableDeadLetter(PlatformError):
    """Raised when a dead letter to requeue holds no JSON message to reset."""


@dataclass(frozen=True, slots=True)
class DeadLetter:
    """One dead-lettered message, as an operator inspects it.

    ``payload`` is the message as Dramatiq stored it, with secrets masked;
    ``preview`` is its arguments on one line of at most 200 characters.
    """

    queue: str
    redis_id: str
    message_id: str
    actor: str
    dead_at: datetime
    age_s: float
    reason: str
    preview: str
    payload: dict[str, Any]


@dataclass(frozen=True, slots=True)
class _Keys:
    dead: str
    dead_payloads: str
    waiting: str
    payloads: str
    reasons: str

    @classmethod
    def of(cls, namespace: str, queue: str) -> _Keys:
        base = f"{namespace}:{q_name(queue)}"
        return cls(f"{base}.XQ", f"{base}.XQ.msgs", base, f"{base}.msgs",
                   reasons_key(queue))


class DeadLetterStore:
    """Read and move the dead letters of Dramatiq's Redis broker.

    Args:
        client: A client of the broker's Redis server.
        namespace: The broker's key namespace.
    """

    def __init__(self, client: redis.Redis, *, namespace: str = DEFAULT_NAMESPACE):
        self._client = client
        self._namespace = namespace
        self._requeue = client.register_script(_REQUEUE)
        self._purge = client.register_script(_PURGE)

    def list(self, queue: str, *, offset: int = 0, limit: int = 50) -> list[DeadLetter]:
        """Return up to ``limit`` dead letters of ``queue``, newest first."""
        if limit <= 0:
            return []
        keys = self._keys(queue)
        start = max(offset, 0)
        entries = self._client.zrevrange(
            keys.dead, start, start + limit - 1, withscores=True
        )
        return self._load(queue, keys, entries)

    def count(self, queue: str) -> int:
        """Return how many dead letters ``queue`` holds."""
        return self._client.zcard(self._keys(queue).dead)

    def get(self, queue: str, redis_id: str) -> DeadLetter | None:
        """Return the dead letter ``redis_id`` of ``queue``, or None."""
        keys = self._keys(queue)
        score = self._client.zscore(keys.dead, redis_id)
        if score is None:
            return None
        return self._load(queue, keys, [(redis_id, score)])[0]

    def requeue(self, queue: str, redis_id: str) -> bool:
        """Move one dead letter back to its queue with its retries reset.

        Returns:
            False when ``queue`` holds no such dead letter (any more).
        """
        keys = self._keys(queue)
        raw = self._client.hget(keys.dead_payloads, redis_id)
        if raw is None:
            return False
        return self._move(keys, [(redis_id, fresh_payload(raw, queue))]) == 1

    def requeue_all(self, queue: str, *, batch_size: int = BATCH_SIZE) -> int:
        """Move every dead letter of ``queue`` back, oldest first, in batches.

        Only messages dead before the call are moved: one that fails again at
        once is not requeued in a loop. One whose payload is missing or not a
        JSON message stays dead. Returns how many were moved.
        """
        keys = self._keys(queue)
        newest = self._client.zrevrange(keys.dead, 0, 0, withscores=True)
        if not newest:
            return 0
        # The newest score, not this host's clock: the scores are the workers'.
        cutoff_ms = newest[0][1]
        moved = left = 0
        while ids := self._client.zrangebyscore(
            keys.dead, "-inf", cutoff_ms, start=left, num=batch_size
        ):
            raws = self._client.hmget(keys.dead_payloads, ids)
            batch = [(_text(i), fresh) for i, raw in zip(ids, raws)
                     if (fresh := _fresh_or_none(raw, queue)) is not None]
            # The ids left out stay in the set, before the next page.
            left += len(ids) - len(batch)
            moved += self._move(keys, batch) if batch else 0
        return moved

    def purge(self, queue: str, redis_id: str | None = None) -> int:
        """Delete one dead letter, or all of ``queue``'s; return how many."""
        keys = self._keys(queue)
        args = [] if redis_id is None else [redis_id]
        return int(self._purge(
            keys=[keys.dead, keys.dead_payloads, keys.reasons], args=args
        ))

    def _keys(self, queue: str) -> _Keys:
        return _Keys.of(self._namespace, queue)

    def _move(self, keys: _Keys, batch: list[tuple[str, bytes]]) -> int:
        args = [item for pair in batch for item in pair]
        return int(self._requeue(
            keys=[keys.dead, keys.dead_payloads, keys.waiting, keys.payloads,
                  keys.reasons],
            args=args,
        ))

    def _load(self, queue: str, keys: _Keys, entries) -> list[DeadLetter]:
        if not entries:
            return []
        ids = [_text(redis_id) for redis_id, _ in entries]
        with self._client.pipeline(transaction=False) as pipe:
            pipe.hmget(keys.dead_payloads, ids)
            pipe.hmget(keys.reasons, ids)
            payloads, reasons = pipe.execute()
        now_s = time.time()
        return [
            _dead_letter(queue, redis_id, score, payload, reason, now_s)
            for redis_id, (_, score), payload, reason
            in zip(ids, entries, payloads, reasons)
        ]


def fresh_payload(raw: bytes, queue: str) -> bytes:
    """Return a stored payload ready to run again: retries 0, no traceback.

    It is re-encoded compactly, as Dramatiq's JSON encoder does. A message that
    died on the delay queue goes back to the queue itself, without its eta.

    Raises:
        UnreadableDeadLetter: When ``raw`` is not a JSON object.
    """
    message = _json_object(raw)
    if not message:
        raise UnreadableDeadLetter(
            f"a dead letter of {queue} is not a JSON message; "
            "inspect it with platform-dead show or purge it"
        )
    if not isinstance(message.get("options"), dict):
        message["options"] = {}
    options = message["options"]
    options["retries"] = 0
    options.pop("traceback", None)
    options.pop("eta", None)
    message["queue_name"] = q_name(queue)
    return json.dumps(message, separators=(",", ":")).encode("utf-8")


def _fresh_or_none(raw: bytes | None, queue: str) -> bytes | None:
    try:
        return None if raw is None else fresh_payload(raw, queue)
    except UnreadableDeadLetter:
        return None


def mask_secrets(message: dict[str, Any]) -> dict[str, Any]:
    """Return a copy of a message whose args, kwargs and options hide secrets.

    A value whose key names a secret (password, token, key, auth…) becomes
    ``***`` at any depth, and so does the password of any URL in a string.
    """
    masked = dict(message)
    for field in ("args", "kwargs", "options"):
        if field in masked:
            masked[field] = _mask(masked[field])
    return masked


def mask_url_credentials(text: str) -> str:
    """Mask URL passwords and secret ``name=value`` pairs in ``text``."""
    return redact(text)


def preview_of(message: dict[str, Any], *, limit: int = PREVIEW_CHARS) -> str:
    """Return a message's (masked) arguments on one line of at most ``limit``."""
    if not message:
        return "(no payload)"
    parts = [_compact(message.get("args", []))]
    if message.get("kwargs"):
        parts.append(_compact(message["kwargs"]))
    text = " ".join(parts)
    return text if len(text) <= limit else text[: limit - 1] + "…"


def _mask(value: Any) -> Any:
    if isinstance(value, dict):
        return {k: MASK if _is_secret(k) else _mask(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_mask(item) for item in value]
    if isinstance(value, str):
        return mask_url_credentials(value)
    return value


def _is_secret(name: Any) -> bool:
    name = str(name).lower()
    return any(marker in name for marker in SECRET_MARKERS)


def _compact(value: Any) -> str:
    return json.dumps(value, separators=(",", ":"), ensure_ascii=False, default=str)


def _dead_letter(
    queue: str, redis_id: str, dead_at_ms: float, raw_payload: bytes | None,
    raw_reason: bytes | None, now_s: float,
) -> DeadLetter:
    payload = mask_secrets(_json_object(raw_payload))
    recorded = _json_object(raw_reason)
    preview = preview_of(payload)
    if raw_payload is not None and not payload:
        preview = f"(not a JSON message: {len(raw_payload)} bytes)"
    return DeadLetter(
        queue=queue,
        redis_id=redis_id,
        message_id=payload.get("message_id") or recorded.get("message_id") or "",
        actor=payload.get("actor_name") or recorded.get("actor") or "",
        dead_at=datetime.fromtimestamp(dead_at_ms / 1000, tz=UTC),
        age_s=max(0.0, now_s - dead_at_ms / 1000),
        reason=redact(recorded.get("reason") or UNKNOWN_REASON),
        preview=preview,
        payload=payload,
    )


def _json_object(raw: bytes | None) -> dict[str, Any]:
    if raw is None:
        return {}
    try:
        value = json.loads(raw)
    except ValueError:
        return {}
    return value if isinstance(value, dict) else {}


def _text(value: bytes | str) -> str:
    return value.decode() if isinstance(value, bytes) else value
