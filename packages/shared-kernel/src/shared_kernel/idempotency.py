"""Effectively-once effects on top of Dramatiq's at-least-once delivery.

Every message has an idempotency key: the producer's, or the message id. A
worker claims the key before running the actor and marks it done afterwards,
in Redis, so a redelivered or re-sent message with a done key is acknowledged
without running again, and two copies never run at the same time. A claim
names the worker that holds it; when that worker's heartbeat is stale (it
crashed), another worker takes the claim over at once instead of waiting for
it to expire.

On the kernel's broker, a consumer claims the keys of a whole fetched batch in
one round trip (:meth:`Idempotency.claim_prefetched`), and the release is
stored with the message's acknowledgement (see ``shared_kernel.settlement``).
"""

import json
import threading
import time
from collections import Counter

import dramatiq
import redis
from dramatiq.middleware import MiddlewareError, SkipMessage
from loguru import logger

DONE_PREFIX = "platform:done:"
CLAIM_PREFIX = "platform:claim:"
DEFAULT_TTL_S = 7 * 24 * 60 * 60
BUSY_RETRY_DELAY_MS = 2_000
DONE, CLAIMED, BUSY = 0, 1, 2


class IdempotencyUnavailable(MiddlewareError):
    """Raised when Redis cannot be asked whether a message's key is done.

    The message then fails like any other attempt and is retried.
    """


# KEYS: done, claim, heartbeats. ARGV: owner, claim_ms, now_ms, heartbeat_ms,
# and "1" when this worker is not running the key itself right now.
# An owner is "<worker id>/<redis message id>": one delivery of one message.
# Returns 0 when the key is done, 1 when claimed, 2 when a live worker holds it.
# A claiming worker is alive: it beats first, so that its claims count as live
# even before its first upkeep pass.
_CLAIM = """
redis.call('ZADD', KEYS[3], ARGV[3], string.match(ARGV[1], '^[^/]*'))
if redis.call('EXISTS', KEYS[1]) == 1 then return 0 end
local holder = redis.call('GET', KEYS[2])
if holder and holder ~= ARGV[1] then
  local worker = string.match(holder, '^[^/]*')
  local mine = worker == string.match(ARGV[1], '^[^/]*')
  local beat = redis.call('ZSCORE', KEYS[3], worker)
  local alive = beat and tonumber(beat) > tonumber(ARGV[3]) - tonumber(ARGV[4])
  if alive and not (mine and ARGV[5] == '1') then return 2 end
end
redis.call('SET', KEYS[2], ARGV[1], 'PX', ARGV[2])
return 1
"""

# KEYS[1]: heartbeats. ARGV: now_ms, heartbeat_ms, then a JSON list of claims,
# each [done, claim, owner, claim_ms, not_ours_now]: _CLAIM for each, in order.
_CLAIM_MANY = """
local now, timeout = tonumber(ARGV[1]), tonumber(ARGV[2])
local claims = cjson.decode(ARGV[3])
local states = {}
if #claims == 0 then return states end
redis.call('ZADD', KEYS[1], now, string.match(claims[1][3], '^[^/]*'))
for i, c in ipairs(claims) do
  local state = 1
  if redis.call('EXISTS', c[1]) == 1 then
    state = 0
  else
    local holder = redis.call('GET', c[2])
    if holder and holder ~= c[3] then
      local worker = string.match(holder, '^[^/]*')
      local mine = worker == string.match(c[3], '^[^/]*')
      local beat = redis.call('ZSCORE', KEYS[1], worker)
      local alive = beat and tonumber(beat) > now - timeout
      if alive and not (mine and c[5] == 1) then state = 2 end
    end
    if state == 1 then redis.call('SET', c[2], c[3], 'PX', c[4]) end
  end
  states[i] = state
end
return states
"""

# KEYS: done, claim. ARGV: owner, ttl_s, mark_done (1 or 0).
_RELEASE = """
if ARGV[3] == '1' then redis.call('SET', KEYS[1], '1', 'EX', ARGV[2]) end
if redis.call('GET', KEYS[2]) == ARGV[1] then redis.call('DEL', KEYS[2]) end
return 1
"""


def idempotency_key(message: dramatiq.Message) -> str:
    """Return the producer's idempotency key of ``message``, or its id."""
    return message.options.get("idempotency_key") or message.message_id


class Idempotency(dramatiq.Middleware):
    """Run each (actor, idempotency key) pair to completion at most once.

    Args:
        ttl_s: How long a done key is remembered; a copy arriving later runs.
    """

    def __init__(self, *, ttl_s: int = DEFAULT_TTL_S) -> None:
        self.ttl_s = ttl_s
        self._scripts: dict = {}
        self._claimed = threading.local()
        # How many threads of this process are claiming or running each key.
        self._running: Counter[str] = Counter()
        self._running_lock = threading.Lock()
        self._stripes = [threading.Lock() for _ in range(64)]
        # Claims made when a batch was fetched: redis message id -> state.
        self._prefetched: dict[str, int] = {}

    def claim_prefetched(self, broker, messages) -> None:
        """Claim the keys of fetched ``messages`` in one round trip.

        Where Redis cannot be asked now, each message claims its key when it
        is about to run, as without prefetching.
        """
        claims = []
        for message in messages:
            if message.actor_name not in broker.actors:
                continue  # Dramatiq dead-letters it without running anything
            claim = _keys(message)[1]
            with self._running_lock:
                ours_already = self._running[claim] > 0
                self._running[claim] += 1
            claims.append((message, claim, ours_already))
        if not claims:
            return
        batch = [
            [*_keys(message), _owner(broker, message), _claim_ms(broker, message),
             int(not ours_already)]
            for message, _, ours_already in claims
        ]
        try:
            states = self._claim_many(broker.client)(
                keys=[f"{broker.namespace}:__heartbeats__"],
                args=[_now_ms(), broker.heartbeat_timeout, json.dumps(batch)],
            )
        except redis.RedisError:
            for _, claim, _ in claims:
                self._forget(claim)
            return
        for (message, claim, _), state in zip(claims, states):
            if state != CLAIMED:
                self._forget(claim)
            self._prefetched[message.options["redis_message_id"]] = state

    def release_prefetched(self, broker, messages) -> None:
        """Free the claims of fetched ``messages`` that go back unrun."""
        claims = []
        for message in messages:
            state = self._prefetched.pop(message.options["redis_message_id"], None)
            if state == CLAIMED:
                claims.append((message, _keys(message)))
        if not claims:
            return
        _, release = self._scripts_for(broker.client)
        try:
            with broker.client.pipeline(transaction=False) as pipe:
                for message, keys in claims:
                    args = [_owner(broker, message), self.ttl_s, "0"]
                    release(keys=list(keys), args=args, client=pipe)
                pipe.execute()
        except (redis.ConnectionError, redis.TimeoutError):
            pass  # they lapse once this worker's heartbeat stops
        finally:
            for _, (_, claim) in claims:
                self._forget(claim)

    def before_process_message(self, broker, message) -> None:
        if not hasattr(broker, "client"):
            return
        state = self._prefetched.pop(message.options.get("redis_message_id"), None)
        if state is not None:
            self._act_on(broker, message, state)
            return
        claim = _keys(message)[1]
        # Deliveries of one key in this process claim one after the other, so
        # "does this process already run the key" stays true while it claims.
        with self._stripes[hash(claim) % len(self._stripes)]:
            with self._running_lock:
                ours_already = self._running[claim] > 0
                self._running[claim] += 1
            try:
                state = self._claim(broker, message, ours_already=ours_already)
            except BaseException:
                self._forget(claim)
                raise
        if state != CLAIMED:
            self._forget(claim)
        self._act_on(broker, message, state)

    def _act_on(self, broker, message, state: int) -> None:
        if state == DONE:
            logger.info(
                "Already done under idempotency key {}; not repeating it",
                idempotency_key(message),
            )
            raise SkipMessage("duplicate of a completed message")
        if state == BUSY:
            self._defer(broker, message)
            raise SkipMessage("deferred: another worker holds the key")
        self._claimed.message_id = message.message_id

    def after_process_message(self, broker, message, *, result=None, exception=None):
        if getattr(self._claimed, "message_id", None) != message.message_id:
            return
        self._claimed.message_id = None
        done, claim = _keys(message)
        settlements = getattr(broker, "settlements", None)
        if settlements is not None:
            # Stored with the acknowledgement; only once it is stored may
            # another delivery in this process take the key over.
            owner, mark_done = _owner(broker, message), int(exception is None)
            settlements.stage(
                "D", done, claim, owner, self.ttl_s, mark_done,
                then=lambda: self._forget(claim),
            )
            return
        try:
            self._release(broker, message, done, claim, exception is None)
        finally:
            # Only now may another delivery in this process take the key over.
            self._forget(claim)

    def after_skip_message(self, broker, message) -> None:
        # Skipped by a middleware that runs before this one: the claim made
        # at fetch time is still held, and nothing will run under it.
        if message.options.get("redis_message_id") in self._prefetched:
            self.release_prefetched(broker, [message])

    def _release(self, broker, message, done: str, claim: str, ok: bool) -> None:
        _, release = self._scripts_for(broker.client)
        mark_done = "1" if ok else "0"
        deadline = time.monotonic() + getattr(broker, "enqueue_timeout_s", 0)
        while True:
            try:
                release(
                    keys=[done, claim],
                    args=[_owner(broker, message), self.ttl_s, mark_done],
                )
                return
            except (redis.ConnectionError, redis.TimeoutError) as error:
                if time.monotonic() >= deadline:
                    # Known limit: a copy arriving later repeats a done effect
                    # (fix: a local journal of unrecorded keys, replayed later).
                    logger.error(
                        "Could not record key {} as {}: {}",
                        idempotency_key(message),
                        "done" if mark_done == "1" else "released",
                        error,
                    )
                    return
                time.sleep(0.5)

    def _forget(self, claim: str) -> None:
        with self._running_lock:
            self._running[claim] -= 1
            if self._running[claim] <= 0:
                del self._running[claim]

    def _claim(self, broker, message, *, ours_already: bool) -> int:
        """Claim the message's key; retry a lost connection for a while.

        Only ``MiddlewareError`` escapes a ``before_process_message`` hook;
        anything else is logged and the actor runs anyway, unprotected.
        """
        claim_script, _ = self._scripts_for(broker.client)
        keys, args = self._claim_call(broker, message, ours_already)
        deadline = time.monotonic() + getattr(broker, "enqueue_timeout_s", 0)
        while True:
            try:
                return claim_script(keys=keys, args=args)
            except (redis.ConnectionError, redis.TimeoutError) as error:
                if time.monotonic() >= deadline:
                    raise IdempotencyUnavailable(
                        f"cannot check idempotency key {idempotency_key(message)}: "
                        f"{error}"
                    ) from error
                time.sleep(0.5)

    @staticmethod
    def _claim_call(broker, message, ours_already: bool) -> tuple[list, list]:
        done, claim = _keys(message)
        keys = [done, claim, f"{broker.namespace}:__heartbeats__"]
        args = [
            _owner(broker, message),
            _claim_ms(broker, message),
            _now_ms(),
            broker.heartbeat_timeout,
            "0" if ours_already else "1",
        ]
        return keys, args

    def _defer(self, broker, message) -> None:
        deferrals = message.options.get("deferrals", 0) + 1
        logger.info(
            "Key {} is being handled by another delivery; checking again in {} ms",
            idempotency_key(message),
            BUSY_RETRY_DELAY_MS,
        )
        try:
            broker.enqueue(
                message.copy(options={"deferrals": deferrals}),
                delay=BUSY_RETRY_DELAY_MS,
            )
        except Exception as error:
            # Only a MiddlewareError stops Dramatiq from running the actor.
            raise IdempotencyUnavailable(
                f"could not defer {message.message_id}: {error}"
            ) from error

    def _claim_many(self, client: redis.Redis):
        script = self._scripts.get((id(client), "many"))
        if script is None:
            script = self._scripts[id(client), "many"] = client.register_script(
                _CLAIM_MANY
            )
        return script

    def _scripts_for(self, client: redis.Redis) -> tuple:
        scripts = self._scripts.get(id(client))
        if scripts is None:
            scripts = (client.register_script(_CLAIM), client.register_script(_RELEASE))
            self._scripts[id(client)] = scripts
        return scripts


def _owner(broker, message: dramatiq.Message) -> str:
    return f"{broker.broker_id}/{message.options.get('redis_message_id', '-')}"


def _keys(message: dramatiq.Message) -> tuple[str, str]:
    scoped = f"{message.actor_name}:{idempotency_key(message)}"
    return DONE_PREFIX + scoped, CLAIM_PREFIX + scoped


def _claim_ms(broker, message) -> int:
    # A claim outlives the actor's time limit, so a slow run keeps it; one
    # taken at fetch time also covers the wait for a thread, which the
    # prefetch hold bounds.
    try:
        options = broker.get_actor(message.actor_name).options
    except dramatiq.ActorNotFound:
        options = {}
    time_limit_ms = options.get("time_limit") or 10 * 60 * 1000
    hold_ms = 1000 * getattr(broker, "prefetch_hold_s", 0)
    return int(time_limit_ms + hold_ms) + 60_000


def _now_ms() -> int:
    return int(time.time() * 1000)
