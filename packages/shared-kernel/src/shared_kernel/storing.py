"""Storing messages in Redis: one script call for one message or a batch.

Dramatiq's enqueue runs its general dispatch script (which also beats a
heartbeat and may run maintenance), and the kernel counted each send in a
second round trip. The kernel's script stores the payloads, makes their ids
visible in the queue, counts them and wakes idle consumers, in one call that
Redis runs atomically: a batch is stored whole or not at all. A batch sent
again after a lost reply skips the ids already stored, so it is not doubled.
The keys are Dramatiq's own, so any Dramatiq worker consumes what it stores.
"""

from dramatiq.common import q_name

from shared_kernel.stats import stats_key

WAKE_PREFIX = "platform:wake:"

# KEYS[1]: namespace. ARGV: queue, stats hash, counter, wake channel, the ids
# and payloads in one argument, each followed by a newline. Compact JSON holds
# no raw newline, and one argument costs the client far less to send than two
# per message. A payload that does holds one (an encoder other than JSON)
# sends an empty fifth argument and the ids and payloads as arguments of their
# own, from the sixth on. Ids already stored are skipped: a call that ran but
# whose reply was lost, then sent again (by the kernel or by the client's own
# retry), stores nothing twice. Only the namespace is a declared key, as in Dramatiq's
# scripts: Redis checks a script's declared keys for read and write, and a
# producer's ACL user may only write to the queues.
_STORE = """
local queue = KEYS[1] .. ':' .. ARGV[1]
local messages = queue .. '.msgs'
local entries = {}
if ARGV[5] == '' then
  for i = 6, #ARGV do entries[#entries + 1] = ARGV[i] end
else
  for part in string.gmatch(ARGV[5], '([^\\n]+)\\n') do
    entries[#entries + 1] = part
  end
end
local ids = {}
for i = 1, #entries, 2 do
  if redis.call('hsetnx', messages, entries[i], entries[i + 1]) == 1 then
    ids[#ids + 1] = entries[i]
  end
end
if #ids == 0 then return 0 end
redis.call('rpush', queue, unpack(ids))
redis.call('hincrby', ARGV[2], ARGV[3], #ids)
redis.call('publish', ARGV[4], #ids)
return #ids
"""


def wake_channel(queue_name: str) -> str:
    """Return the channel that tells consumers of ``queue_name`` to fetch."""
    return f"{WAKE_PREFIX}{queue_name}"


class MessageStore:
    """Stores encoded messages on one Redis, as Dramatiq's broker would.

    Args:
        client: The Redis client.
        namespace: Dramatiq's key prefix.
    """

    def __init__(self, client, *, namespace: str) -> None:
        self.namespace = namespace
        self._script = client.register_script(_STORE)

    def store(self, queue_name: str, entries, *, counter: str) -> int:
        """Store ``entries`` (redis id, encoded payload) on ``queue_name`` at once.

        Ids already stored are skipped, their payloads kept: sending a batch
        again after a lost reply is safe.

        Returns:
            How many were stored.
        """
        framed = b"".join(
            b"%s\n%s\n" % (redis_id.encode("ascii"), data) for redis_id, data in entries
        )
        args = [
            queue_name,
            stats_key(q_name(queue_name)),
            counter,
            wake_channel(queue_name),
        ]
        if framed.count(b"\n") == 2 * len(entries):
            args.append(framed)
        else:
            args.append(b"")
            for redis_id, data in entries:
                args += (redis_id, data)
        return self._script(keys=[self.namespace], args=args)
