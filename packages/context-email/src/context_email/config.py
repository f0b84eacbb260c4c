"""The email context's settings: which SMTP server to use and as whom.

Read once, at the consumer's entry point, with :meth:`EmailSettings.from_env`.
Every bad value raises :class:`SettingsError` with one line that names the
variable, the value and the expected form; the password is never echoed.
"""

import math
import os
import re
from collections.abc import Mapping
from dataclasses import dataclass

from shared_kernel.errors import SettingsError

DEFAULT_SMTP_PORT = 25
DEFAULT_TIMEOUT_S = 10.0
DEFAULT_MAIL_FROM = "platform@localhost"
TRUE_WORDS = ("true", "1", "yes")
FALSE_WORDS = ("false", "0", "no")

# An SMTP exchange takes up to ~8 socket steps, each bounded by the timeout;
# with this cap the whole exchange stays inside the actors' time limit.
MAX_TIMEOUT_S = 30.0

_ADDRESS = r"[^@\s<>,\"]+@[^@\s<>,\"]+"
_MAILBOX = re.compile(rf"{_ADDRESS}|[^<>@\r\n]*<{_ADDRESS}>")


@dataclass(frozen=True, slots=True)
class EmailSettings:
    """Where the SMTP server is, how to talk to it, and the sender address."""

    smtp_host: str = "localhost"
    smtp_port: int = DEFAULT_SMTP_PORT
    smtp_user: str | None = None
    smtp_password: str | None = None
    starttls: bool = False
    timeout_s: float = DEFAULT_TIMEOUT_S
    mail_from: str = DEFAULT_MAIL_FROM

    @classmethod
    def from_env(cls, env: Mapping[str, str] | None = None) -> "EmailSettings":
        """Read and validate the settings from environment variables.

        Args:
            env: The variables to read; ``os.environ`` when not given.

        Raises:
            SettingsError: When a variable holds a value that cannot be used.
        """
        env = os.environ if env is None else env
        user, password = _credentials(env)
        return cls(
            smtp_host=_host(env),
            smtp_port=_port(env),
            smtp_user=user,
            smtp_password=password,
            starttls=_flag(env, "SMTP_STARTTLS"),
            timeout_s=_timeout_s(env),
            mail_from=_mail_from(env),
        )

    @property
    def address(self) -> str:
        """Return ``host:port`` of the SMTP server, for messages and log lines."""
        return f"{self.smtp_host}:{self.smtp_port}"

    def __repr__(self) -> str:
        password = None if self.smtp_password is None else "***"
        return (
            f"EmailSettings(smtp_host={self.smtp_host!r}, "
            f"smtp_port={self.smtp_port}, smtp_user={self.smtp_user!r}, "
            f"smtp_password={password!r}, starttls={self.starttls}, "
            f"timeout_s={self.timeout_s}, mail_from={self.mail_from!r})"
        )


def _host(env: Mapping[str, str]) -> str:
    value = env.get("SMTP_HOST", "").strip() or "localhost"
    if any(char.isspace() or char in "/@" for char in value):
        raise SettingsError(
            f"SMTP_HOST must be a host name or IP address such as "
            f"mail.example.com, got {value!r}"
        )
    return value


def _port(env: Mapping[str, str]) -> int:
    raw = env.get("SMTP_PORT", "").strip()
    if not raw:
        return DEFAULT_SMTP_PORT
    if not raw.isdigit() or not 1 <= int(raw) <= 65535:
        raise SettingsError(f"SMTP_PORT must be a number from 1 to 65535, got {raw!r}")
    return int(raw)


def _credentials(env: Mapping[str, str]) -> tuple[str | None, str | None]:
    user = env.get("SMTP_USER", "").strip() or None
    password = env.get("SMTP_PASSWORD") or None
    if user and not password:
        raise SettingsError(
            f"SMTP_USER is {user!r} but SMTP_PASSWORD is not set; "
            "set both to log in to the SMTP server, or neither"
        )
    if password and not user:
        raise SettingsError(
            "SMTP_PASSWORD is set but SMTP_USER is not; "
            "set both to log in to the SMTP server, or neither"
        )
    return user, password


def _flag(env: Mapping[str, str], name: str) -> bool:
    raw = env.get(name, "").strip()
    value = raw.lower()
    if not value or value in FALSE_WORDS:
        return False
    if value in TRUE_WORDS:
        return True
    words = "/".join(TRUE_WORDS + FALSE_WORDS)
    raise SettingsError(f"{name} must be one of {words}, got {raw!r}")


def _timeout_s(env: Mapping[str, str]) -> float:
    raw = env.get("SMTP_TIMEOUT_S", "").strip()
    if not raw:
        return DEFAULT_TIMEOUT_S
    try:
        value = float(raw)
    except ValueError:
        value = math.nan
    if not math.isfinite(value) or not 0 < value <= MAX_TIMEOUT_S:
        raise SettingsError(
            f"SMTP_TIMEOUT_S must be a number of seconds above 0 and at most "
            f"{MAX_TIMEOUT_S:g}, such as 10 or 2.5, got {raw!r}"
        )
    return value


def _mail_from(env: Mapping[str, str]) -> str:
    value = env.get("MAIL_FROM", "").strip() or DEFAULT_MAIL_FROM
    if not _MAILBOX.fullmatch(value):
        raise SettingsError(
            "MAIL_FROM must be an email address such as platform@example.com "
            f"or 'Platform <platform@example.com>', got {value!r}"
        )
    return value
