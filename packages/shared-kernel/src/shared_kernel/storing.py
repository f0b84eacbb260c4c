"""Storing messages in Redis: one script call for one message or a batch.

Dramatiq's enqueue runs its general dispatch script (which also beats a
heartbeat and may run maintenance), and the kernel counted each send in a
second round trip. The kernel's script stores the payloads, makes their ids
visible in the queue, counts them and wakes idle consumers, in one call that
Redis runs atomically: a batch is stored whole or not at all. An id already
stored is skipped, so a batch sent again after a lost reply is not doubled.
The keys are Dramatiq's own, so any Dramatiq worker consumes what it stores.
"""

from dramatiq.common import q_name

from shared_kernel.stats import stats_key

WAKE_PREFIX = "platform:wake:"

# KEYS[1]: namespace. ARGV: queue, stats hash, counter, wake channel, then
# the id and payload of each message. Only the namespace is a declared key,
# as in Dramatiq's scripts: Redis checks a script's declared keys for read
# and write, and a producer's ACL user may only write to the queues.
_STORE = """
local queue = KEYS[1] .. ':' .. ARGV[1]
local messages = queue .. '.msgs'
local stored = {}
for i = 5, #ARGV, 2 do
  if redis.call('hsetnx', messages, ARGV[i], ARGV[i + 1]) == 1 then
    stored[#stored + 1] = ARGV[i]
  end
end
if #stored == 0 then return 0 end
redis.call('rpush', queue, unpack(stored))
redis.call('hincrby', ARGV[2], ARGV[3], #stored)
redis.call('publish', ARGV[4], #stored)
return #stored
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
        """Store ``entries`` (redis id, payload) on ``queue_name`` at once.

        Returns:
            How many were new; a payload already stored under its id is kept.
        """
        stats = stats_key(q_name(queue_name))
        args = [queue_name, stats, counter, wake_channel(queue_name)]
        for redis_id, data in entries:
            args += (redis_id, data)
        return self._script(keys=[self.namespace], args=args)
