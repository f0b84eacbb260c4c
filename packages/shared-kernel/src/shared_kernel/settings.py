"""Settings read from the environment once, at a process's entry point.

Nothing here runs at import time: an entry point calls :meth:`Settings.from_env`
and hands the result down. Every bad value raises :class:`SettingsError` with a
message that names the variable, the value and the expected form, and never
the password.
"""

import math
import os
from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from pathlib import Path
from urllib.parse import unquote, urlsplit

from shared_kernel.errors import SettingsError
from shared_kernel.queues import known_contexts

DEFAULT_REDIS_PORT = 6380
MIN_PASSWORD_CHARS = 16
LOG_LEVELS = ("TRACE", "DEBUG", "INFO", "SUCCESS", "WARNING", "ERROR", "CRITICAL")


@dataclass(frozen=True, slots=True)
class RedisSettings:
    """Where the broker's Redis server is and how to log in to it."""

    host: str = "localhost"
    port: int = DEFAULT_REDIS_PORT
    db: int = 0
    username: str | None = None
    password: str | None = field(default=None, repr=False)
    tls: bool = False
    tls_ca_file: str | None = None
    tls_cert_file: str | None = None
    tls_key_file: str | None = None

    @classmethod
    def from_url(cls, url: str, *, password: str | None = None) -> "RedisSettings":
        """Parse a ``redis://`` or ``rediss://`` URL.

        A password in the URL must be percent-encoded (``@`` as ``%40``);
        ``password`` is used when the URL carries none.
        """
        parts = _split_url(url)
        return cls(
            host=parts.hostname or "localhost",
            port=_url_port(parts),
            db=_url_db(parts),
            username=unquote(parts.username) if parts.username else None,
            password=unquote(parts.password) if parts.password else password,
            tls=parts.scheme == "rediss",
        )

    @property
    def address(self) -> str:
        """Return ``scheme://host:port/db`` for log lines: no credentials."""
        scheme = "rediss" if self.tls else "redis"
        return f"{scheme}://{self.host}:{self.port}/{self.db}"


@dataclass(frozen=True, slots=True)
class DeliverySettings:
    """How hard the platform works to deliver every message once.

    A consumer killed mid-task has its messages back in their queues within
    ``heartbeat_timeout_s + upkeep_interval_s``. A consumer fetches up to
    ``prefetch`` messages of a queue at once, but returns those its threads
    have not started within ``prefetch_hold_s``, so a slow consumer keeps no
    messages from an idle one. An idle consumer is woken by each send, and
    looks for messages sent by other means every ``idle_poll_s``.
    """

    heartbeat_timeout_s: float = 15.0
    upkeep_interval_s: float = 3.0
    enqueue_timeout_s: float = 30.0
    idempotency_ttl_s: int = 7 * 24 * 3600
    dead_letter_ttl_s: int = 7 * 24 * 3600
    prefetch: int = 200
    prefetch_hold_s: float = 2.0
    idle_poll_s: float = 5.0


@dataclass(frozen=True, slots=True)
class Settings:
    """Everything the kernel needs to run one process of one context."""

    context_name: str = "app"
    log_dir: Path = Path("logs")
    log_level: str = "INFO"
    redis: RedisSettings = field(default_factory=RedisSettings)
    delivery: DeliverySettings = field(default_factory=DeliverySettings)
    local: bool = False
    metrics_port: int | None = None

    def require_secure(self) -> None:
        """Refuse to run against a Redis without a strong password.

        Local development (``PLATFORM_ENV=local``) is exempt: the demo and a
        laptop's Redis need no password.

        Raises:
            SettingsError: When the password is missing or too short.
        """
        if self.local:
            return
        password = self.redis.password or ""
        if not password:
            raise SettingsError(
                "REDIS_PASSWORD (or REDIS_PASSWORD_FILE) must be set outside local "
                "development; set PLATFORM_ENV=local to run without one"
            )
        if len(password) < MIN_PASSWORD_CHARS:
            raise SettingsError(
                f"the Redis password must have at least {MIN_PASSWORD_CHARS} "
                f"characters, it has {len(password)}; generate one with: python3 "
                "-c 'import secrets; print(secrets.token_urlsafe(32))'"
            )

    @classmethod
    def from_env(
        cls, env: Mapping[str, str] | None = None, *, context: str | None = None
    ) -> "Settings":
        """Read and validate the settings from environment variables.

        Args:
            env: The variables to read; ``os.environ`` when not given.
            context: The context this process runs as. A consumer passes its
                own name; ``CONTEXT_NAME`` must then be unset or agree.

        Raises:
            SettingsError: When a variable holds a value that cannot be used.
        """
        env = os.environ if env is None else env
        return cls(
            context_name=_context_name(env, context),
            log_dir=Path(_text(env, "LOG_DIR", "./logs")),
            log_level=_log_level(env),
            redis=_redis_settings(env),
            delivery=_delivery_settings(env),
            local=_platform_env(env) == "local",
            metrics_port=_integer(env, "METRICS_PORT", 0, low=0, high=65535) or None,
        )


def _text(env: Mapping[str, str], name: str, default: str) -> str:
    value = env.get(name, "").strip()
    return value or default


def _context_name(env: Mapping[str, str], context: str | None) -> str:
    value = env.get("CONTEXT_NAME", "").strip()
    if value and value not in known_contexts():
        choices = ", ".join(known_contexts())
        raise SettingsError(f"CONTEXT_NAME must be one of {choices}, got {value!r}")
    if context is not None and value and value != context:
        raise SettingsError(
            f"CONTEXT_NAME is {value!r} but this is the {context} consumer; "
            f"unset CONTEXT_NAME or set it to {context!r}"
        )
    return context or value or "app"


def _log_level(env: Mapping[str, str]) -> str:
    value = _text(env, "LOG_LEVEL", "INFO").upper()
    if value not in LOG_LEVELS:
        raise SettingsError(
            f"LOG_LEVEL must be one of {', '.join(LOG_LEVELS)}, got {value!r}"
        )
    return value


def _platform_env(env: Mapping[str, str]) -> str:
    value = _text(env, "PLATFORM_ENV", "production").lower()
    if value not in ("production", "local"):
        raise SettingsError(f"PLATFORM_ENV must be production or local, got {value!r}")
    return value


def _password(env: Mapping[str, str]) -> str | None:
    path = env.get("REDIS_PASSWORD_FILE", "").strip()
    if not path:
        return env.get("REDIS_PASSWORD") or None
    if env.get("REDIS_PASSWORD"):
        raise SettingsError("set REDIS_PASSWORD or REDIS_PASSWORD_FILE, not both")
    try:
        text = Path(path).read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as error:
        reason = getattr(error, "strerror", None) or type(error).__name__
        raise SettingsError(
            f"REDIS_PASSWORD_FILE names {path!r}, which cannot be read ({reason}); "
            "give the path of a file holding the password"
        ) from None
    return text.rstrip("\r\n") or None


def _redis_settings(env: Mapping[str, str]) -> RedisSettings:
    password = _password(env)
    url = env.get("REDIS_URL", "").strip()
    if url:
        settings = RedisSettings.from_url(url, password=password)
    else:
        settings = RedisSettings(
            host=_text(env, "REDIS_HOST", "localhost"),
            port=_integer(env, "REDIS_PORT", DEFAULT_REDIS_PORT, low=1, high=65535),
            db=_integer(env, "REDIS_DB", 0, low=0, high=1_000_000),
            username=env.get("REDIS_USERNAME") or None,
            password=password,
            tls=_flag(env, "REDIS_TLS"),
        )
    return _with_tls_files(settings, env)


def _flag(env: Mapping[str, str], name: str) -> bool:
    value = env.get(name, "").strip().lower()
    if value in ("", "0", "false", "no"):
        return False
    if value in ("1", "true", "yes"):
        return True
    raise SettingsError(f"{name} must be true or false, got {value!r}")


def _with_tls_files(settings: RedisSettings, env: Mapping[str, str]) -> RedisSettings:
    files = {}
    for name, attribute in (
        ("REDIS_TLS_CA_FILE", "tls_ca_file"),
        ("REDIS_TLS_CERT_FILE", "tls_cert_file"),
        ("REDIS_TLS_KEY_FILE", "tls_key_file"),
    ):
        path = env.get(name, "").strip()
        if not path:
            continue
        if not settings.tls:
            raise SettingsError(
                f"{name} needs TLS: use a rediss:// REDIS_URL or REDIS_TLS=true"
            )
        if not Path(path).is_file():
            raise SettingsError(f"{name} names {path!r}, which is not a readable file")
        files[attribute] = path
    if ("tls_cert_file" in files) != ("tls_key_file" in files):
        raise SettingsError("set REDIS_TLS_CERT_FILE and REDIS_TLS_KEY_FILE together")
    return replace(settings, **files)


def _delivery_settings(env: Mapping[str, str]) -> DeliverySettings:
    day_s = 24 * 3600
    heartbeat_s = _seconds(env, "HEARTBEAT_TIMEOUT_S", 15.0, low=1.0, high=3600.0)
    upkeep_s = _seconds(
        env,
        "UPKEEP_INTERVAL_S",
        min(3.0, heartbeat_s / 3),
        low=0.1,
        high=heartbeat_s / 3,
    )
    return DeliverySettings(
        heartbeat_timeout_s=heartbeat_s,
        upkeep_interval_s=upkeep_s,
        enqueue_timeout_s=_seconds(
            env, "ENQUEUE_TIMEOUT_S", 30.0, low=0.0, high=3600.0
        ),
        idempotency_ttl_s=_integer(
            env, "IDEMPOTENCY_TTL_S", 7 * day_s, low=60, high=365 * day_s
        ),
        dead_letter_ttl_s=_integer(
            env, "DEAD_LETTER_TTL_S", 7 * day_s, low=60, high=365 * day_s
        ),
        prefetch=_integer(env, "CONSUMER_PREFETCH", 200, low=1, high=1000),
        prefetch_hold_s=_seconds(env, "PREFETCH_HOLD_S", 2.0, low=0.1, high=600.0),
        idle_poll_s=_seconds(env, "IDLE_POLL_S", 5.0, low=0.1, high=60.0),
    )


def _seconds(
    env: Mapping[str, str], name: str, default: float, *, low: float, high: float
) -> float:
    raw = env.get(name, "").strip()
    if not raw:
        return default
    try:
        value = float(raw)
    except ValueError:
        value = math.nan
    if not low <= value <= high:
        raise SettingsError(
            f"{name} must be a number of seconds from {low:g} to {high:g}, got {raw!r}"
        )
    return value


def _integer(
    env: Mapping[str, str], name: str, default: int, *, low: int, high: int
) -> int:
    raw = env.get(name, "").strip()
    if not raw:
        return default
    try:
        value = int(raw)
    except ValueError:
        value = None
    if value is None or not low <= value <= high:
        raise SettingsError(
            f"{name} must be a number from {low} to {high}, got {raw!r}"
        )
    return value


def _split_url(url: str):
    parts = urlsplit(url)
    if parts.scheme not in ("redis", "rediss"):
        raise SettingsError(
            "REDIS_URL must look like redis://[:password@]host[:port][/db] "
            f"or rediss://..., got a URL with scheme {parts.scheme or 'none'!r}"
        )
    if parts.fragment or parts.query:
        raise SettingsError(
            "REDIS_URL must not contain '#' or '?': percent-encode them in the "
            "password (# as %23, ? as %3F; also @ as %40, / as %2F, % as %25)"
        )
    return parts


def _url_port(parts) -> int:
    try:
        port = parts.port
    except ValueError:
        port = -1
    if port is None:
        return DEFAULT_REDIS_PORT
    if not 1 <= port <= 65535:
        raise SettingsError(
            "REDIS_URL must have a port from 1 to 65535 after the host; "
            "percent-encode ':' and '/' in the password as %3A and %2F"
        )
    return port


def _url_db(parts) -> int:
    path = parts.path.strip("/")
    if not path:
        return 0
    if not path.isdigit():
        raise SettingsError(
            "REDIS_URL must end in /<db number> or nothing; "
            "percent-encode '/' in the password as %2F"
        )
    return int(path)
