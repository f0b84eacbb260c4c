"""Where the dashboard listens, and the token that guards it.

Read once, at the entry point, from ``DASHBOARD_HOST``, ``DASHBOARD_PORT`` and
``DASHBOARD_TOKEN`` (or ``DASHBOARD_TOKEN_FILE``); command-line options win
over the environment. A dashboard reachable from other machines can requeue
and purge messages, so it refuses to listen beyond loopback without a token.
"""

import ipaddress
import os
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path

from shared_kernel.errors import SettingsError

DEFAULT_HOST = "127.0.0.1"
DEFAULT_PORT = 8050
MIN_TOKEN_CHARS = 16
LOOPBACK_NAMES = frozenset({"localhost", "127.0.0.1", "::1", "[::1]"})
GENERATE_HINT = "python3 -c 'import secrets; print(secrets.token_urlsafe(32))'"


@dataclass(frozen=True, slots=True)
class DashboardSettings:
    """The dashboard's address and, when set, the token every request must carry."""

    host: str = DEFAULT_HOST
    port: int = DEFAULT_PORT
    token: str | None = field(default=None, repr=False)

    @property
    def loopback(self) -> bool:
        """Return whether only this machine can reach the address."""
        return is_loopback(self.host)

    @classmethod
    def from_env(
        cls, env: Mapping[str, str] | None = None, *,
        host: str | None = None, port: int | None = None,
    ) -> "DashboardSettings":
        """Read the settings; ``host`` and ``port`` override the environment.

        Raises:
            SettingsError: When a value is unusable, or when the address is
                not loopback and no token is set.
        """
        env = os.environ if env is None else env
        settings = cls(
            host=host or env.get("DASHBOARD_HOST", "").strip() or DEFAULT_HOST,
            port=port if port is not None else _port(env),
            token=_token(env),
        )
        if not settings.loopback and settings.token is None:
            raise SettingsError(
                f"the dashboard would listen on {settings.host}, which other "
                "machines can reach, without a token: set DASHBOARD_TOKEN (at "
                f"least {MIN_TOKEN_CHARS} characters, e.g. from {GENERATE_HINT}) "
                "or listen on 127.0.0.1"
            )
        return settings


def is_loopback(host: str) -> bool:
    """Return whether ``host`` names this machine only (127.0.0.0/8, ::1)."""
    if host.lower() in LOOPBACK_NAMES:
        return True
    try:
        return ipaddress.ip_address(host.strip("[]")).is_loopback
    except ValueError:
        return False


def _port(env: Mapping[str, str]) -> int:
    raw = env.get("DASHBOARD_PORT", "").strip()
    if not raw:
        return DEFAULT_PORT
    if not raw.isdigit() or not 1 <= int(raw) <= 65535:
        raise SettingsError(
            f"DASHBOARD_PORT must be a number from 1 to 65535, got {raw!r}")
    return int(raw)


def _token(env: Mapping[str, str]) -> str | None:
    path = env.get("DASHBOARD_TOKEN_FILE", "").strip()
    token = env.get("DASHBOARD_TOKEN", "")
    if path and token:
        raise SettingsError("set DASHBOARD_TOKEN or DASHBOARD_TOKEN_FILE, not both")
    if path:
        token = _read_token_file(path)
    token = token.strip()
    if token and len(token) < MIN_TOKEN_CHARS:
        raise SettingsError(
            f"DASHBOARD_TOKEN must have at least {MIN_TOKEN_CHARS} characters, it "
            f"has {len(token)}; generate one with: {GENERATE_HINT}"
        )
    return token or None


def _read_token_file(path: str) -> str:
    try:
        return Path(path).read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as error:
        reason = getattr(error, "strerror", None) or type(error).__name__
        raise SettingsError(
            f"DASHBOARD_TOKEN_FILE names {path!r}, which cannot be read ({reason}); "
            "give the path of a file holding the token"
        ) from None
