"""The Dramatiq broker of a process, built from settings.

Dramatiq binds an actor to the global broker when its module is imported, and
builds a default broker of its own when none is set. So an entry point calls
:func:`install_broker` first and imports actor modules only after it.
"""

import dramatiq
import redis
from dramatiq.middleware import Retries, default_middleware
from redis.backoff import ExponentialBackoff
from redis.retry import Retry

from shared_kernel.errors import PlatformError
from shared_kernel.deadletters import DeadLetterReasons
from shared_kernel.idempotency import Idempotency
from shared_kernel.metrics import Metrics
from shared_kernel.middleware import MessageContext
from shared_kernel.stats import QueueStats
from shared_kernel.redis_broker import PlatformRedisBroker
from shared_kernel.retries import SafeRetries
from shared_kernel.settings import RedisSettings, Settings
from shared_kernel.tracing import Trace
from shared_kernel.upkeep import Upkeep

SOCKET_TIMEOUT_S = 10.0
CONNECT_TIMEOUT_S = 5.0
NAMESPACE = "dramatiq"

MAX_MESSAGE_BYTES = 8 * 1024 * 1024
"""The largest encoded message the platform sends or accepts."""


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
        ssl_ca_certs=settings.tls_ca_file,
        ssl_certfile=settings.tls_cert_file,
        ssl_keyfile=settings.tls_key_file,
        socket_timeout=SOCKET_TIMEOUT_S,
        socket_connect_timeout=CONNECT_TIMEOUT_S,
        health_check_interval=30,
        retry=Retry(ExponentialBackoff(cap=1.0, base=0.05), retries=3),
        retry_on_error=[redis.ConnectionError, redis.TimeoutError],
    )


def build_broker(settings: Settings) -> PlatformRedisBroker:
    """Build the broker for ``settings`` with the kernel's middleware."""
    delivery = settings.delivery
    return PlatformRedisBroker(
        client=redis_client(settings.redis),
        address=settings.redis.address,
        namespace=NAMESPACE,
        middleware=_middleware(settings),
        heartbeat_timeout=int(delivery.heartbeat_timeout_s * 1000),
        # Consumers run maintenance on their own queues on a timer (upkeep);
        # Dramatiq's random maintenance on a send would touch the keys of the
        # queue sent to, which a context's ACL user may not read.
        maintenance_chance=0,
        dead_message_ttl=delivery.dead_letter_ttl_s * 1000,
        enqueue_timeout_s=delivery.enqueue_timeout_s,
        max_message_bytes=MAX_MESSAGE_BYTES,
        prefetch_hold_s=delivery.prefetch_hold_s,
        idle_poll_s=delivery.idle_poll_s,
    )


def _middleware(settings: Settings) -> list[dramatiq.Middleware]:
    # Stock retries acknowledge a message whose retry could not be stored.
    middleware = [
        SafeRetries() if m is Retries else m() for m in default_middleware
    ]
    return middleware + [
        MessageContext(),
        Idempotency(ttl_s=settings.delivery.idempotency_ttl_s),
        QueueStats(),
        Trace(context=settings.context_name),
        Metrics(context=settings.context_name, port=settings.metrics_port),
        DeadLetterReasons(),
        Upkeep(interval_s=settings.delivery.upkeep_interval_s,
               context=settings.context_name),
    ]


def install_broker(settings: Settings) -> PlatformRedisBroker:
    """Build the broker and make it Dramatiq's global broker."""
    broker = build_broker(settings)
    dramatiq.set_broker(broker)
    return broker


def current_broker() -> dramatiq.Broker:
    """Return the broker installed by :func:`install_broker` or by a test.

    Raises:
        BrokerNotInstalled: When no broker was installed in this process.
    """
    # dramatiq.get_broker() would build a default broker; read the global
    # without side effects so a test's StubBroker is found but nothing else.
    broker = dramatiq.broker.global_broker
    if broker is None:
        raise BrokerNotInstalled(
            "no broker is installed: call shared_kernel.install_broker(settings) "
            "before sending messages"
        )
    return broker
