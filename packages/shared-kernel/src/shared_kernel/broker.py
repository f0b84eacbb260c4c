"""The Dramatiq broker of a process, built from settings.

Dramatiq binds an actor to the global broker when its module is imported, and
builds a default broker of its own when none is set. So an entry point calls
:func:`install_broker` first and imports actor modules only after it.
"""

import dramatiq
import redis
from dramatiq.brokers.redis import RedisBroker
from dramatiq.middleware import default_middleware
from redis.backoff import ExponentialBackoff
from redis.retry import Retry

from shared_kernel.errors import PlatformError
from shared_kernel.idempotency import Idempotency
from shared_kernel.middleware import MessageContext
from shared_kernel.stats import QueueStats
from shared_kernel.settings import RedisSettings, Settings

SOCKET_TIMEOUT_S = 10.0
CONNECT_TIMEOUT_S = 5.0
NAMESPACE = "dramatiq"

_installed: RedisBroker | None = None


class BrokerNotInstalled(PlatformError):
    """Raised when a message is sent before a broker was installed."""


def redis_client(settings: RedisSettings) -> redis.Redis:
    """Build a Redis client that retries a dropped connection with backoff."""
    return redis.Redis(
        host=settings.host,
        port=settings.port,
        db=settings.db,
        username=settings.username,
        password=settings.password,
        ssl=settings.tls,
        socket_timeout=SOCKET_TIMEOUT_S,
        socket_connect_timeout=CONNECT_TIMEOUT_S,
        health_check_interval=30,
        retry=Retry(ExponentialBackoff(cap=1.0, base=0.05), retries=3),
        retry_on_error=[redis.ConnectionError, redis.TimeoutError],
    )


def build_broker(settings: Settings) -> RedisBroker:
    """Build the broker for ``settings`` with the kernel's middleware."""
    middleware = [m() for m in default_middleware]
    middleware += [MessageContext(), Idempotency(), QueueStats()]
    return RedisBroker(
        client=redis_client(settings.redis),
        namespace=NAMESPACE,
        middleware=middleware,
    )


def install_broker(settings: Settings) -> RedisBroker:
    """Build the broker and make it Dramatiq's global broker."""
    global _installed
    broker = build_broker(settings)
    dramatiq.set_broker(broker)
    _installed = broker
    return broker


def current_broker() -> dramatiq.Broker:
    """Return the broker installed by :func:`install_broker` or by a test.

    Raises:
        BrokerNotInstalled: When no broker was installed in this process.
    """
    broker = _installed or _global_broker()
    if broker is None:
        raise BrokerNotInstalled(
            "no broker is installed: call shared_kernel.install_broker(settings) "
            "before sending messages"
        )
    return broker


def _global_broker() -> dramatiq.Broker | None:
    # dramatiq.get_broker() would build a default broker; read the global
    # without side effects so a test's StubBroker is found but nothing else.
    return dramatiq.broker.global_broker
