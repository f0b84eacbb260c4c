"""The health command: is this host's consumer connected and beating?

``platform-health`` exits 0 only when Redis answers and a consumer of
``CONTEXT_NAME`` on this host recorded a heartbeat within the heartbeat
timeout. Images and compose use it as their health check.
"""

import argparse
import socket
import sys
import time

import redis

from shared_kernel.broker import redis_client
from shared_kernel.cli import exit_on_user_error
from shared_kernel.settings import Settings
from shared_kernel.upkeep import CONSUMERS_PREFIX

UNHEALTHY = 1


def main(argv: list[str] | None = None) -> None:
    """Check the broker connection and the consumer's heartbeat; exit 0 or 1."""
    parser = argparse.ArgumentParser(prog="platform-health", description=__doc__)
    parser.add_argument(
        "--any-host",
        action="store_true",
        help="accept a consumer of the context on any host",
    )
    args = parser.parse_args(argv)
    with exit_on_user_error():
        settings = Settings.from_env()
        healthy, text = check(
            settings, host=None if args.any_host else socket.gethostname()
        )
    print(("healthy: " if healthy else "unhealthy: ") + text)
    sys.exit(0 if healthy else UNHEALTHY)


def check(settings: Settings, *, host: str | None) -> tuple[bool, str]:
    """Return whether a consumer of the settings' context is healthy, and why."""
    client = redis_client(settings.redis)
    try:
        client.ping()
        records = [
            client.hgetall(key)
            for key in client.scan_iter(f"{CONSUMERS_PREFIX}*", count=200)
        ]
    except redis.RedisError as error:
        return False, f"Redis at {settings.redis.address} does not answer ({error})"
    finally:
        client.close()
    now_ms = time.time() * 1000
    limit_ms = settings.delivery.heartbeat_timeout_s * 1000
    context = settings.context_name
    for record in records:
        fields = {k.decode(): v.decode() for k, v in record.items()}
        if fields.get("context") != context or (host and fields.get("host") != host):
            continue
        age_ms = now_ms - float(fields.get("beat_ms", 0))
        if age_ms <= limit_ms:
            return (
                True,
                f"{context} consumer pid {fields.get('pid')} "
                f"beat {age_ms / 1000:.1f} s ago",
            )
    where = f" on {host}" if host else ""
    hint = (
        "; set CONTEXT_NAME to email, data or report to check that consumer"
        if context == "app"
        else ""
    )
    return False, (
        f"no {context} consumer{where} beat in the last {limit_ms / 1000:g} s{hint}"
    )
