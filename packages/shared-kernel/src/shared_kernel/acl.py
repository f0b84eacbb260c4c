"""Redis ACL users: each context reaches only its own queues.

``platform-acl`` writes an ACL file (``aclfile`` in redis.conf, Redis 7) with
one user per context, a producer user and an admin user, and a file of their
generated passwords. A context's user reads and writes its own queues, the
shared queues and what Dramatiq needs for heartbeats and acknowledgements, and
may only *write* to the queues it publishes to. The producer may only write
to the command queues: it cannot read or take a message. The admin user is for
the status, dead-letter and dashboard commands.
"""

import argparse
import secrets
import sys
from pathlib import Path

from shared_kernel.broker import NAMESPACE
from shared_kernel.contracts import ROUTES, DatasetImported, ReportReady
from shared_kernel.queues import SHARED_QUEUES, ContextQueues
from shared_kernel.storing import wake_channel

ADMIN, PRODUCER = "admin", "producer"
# Queues a producer may write: the commands, not another context's events.
PRODUCER_QUEUES = ("email.welcome", "data.import", "notification", "log")
# Dramatiq's maintenance uses KEYS; admin-only commands stay out.
CONSUMER_COMMANDS = "+@all -@admin -@dangerous +keys +info"
# What a send runs: the kernel's store script (HSETNX, RPUSH, HINCRBY and a
# PUBLISH that wakes idle consumers) or Dramatiq's (ZADD, HSET, RPUSH); no
# command that reads or removes a message.
PRODUCER_COMMANDS = (
    "-@all +@connection +evalsha +eval +script|load +zadd +hset +hsetnx +rpush "
    "+hincrby +expire +pexpire +publish +multi +exec"
)


def users() -> list[str]:
    """Return every user the ACL file defines."""
    return [*ContextQueues, PRODUCER, ADMIN]


def targets(context: str) -> list[str]:
    """Return the queues ``context`` sends to but does not consume."""
    sent = {DatasetImported: "data", ReportReady: "report"}
    own = set(ContextQueues[context])
    return sorted(
        {
            str(route.queue)
            for contract, routes in ROUTES.items()
            for route in routes
            if sent.get(contract) == context and route.queue not in own
        }
    )


def render(passwords: dict[str, str]) -> str:
    """Return the ACL file for the given passwords (one per user)."""
    lines = ["user default off"]
    for context, queues in ContextQueues.items():
        lines.append(_context_user(context, queues, passwords[context]))
    lines.append(
        _user(PRODUCER, passwords[PRODUCER], _producer_keys(), PRODUCER_COMMANDS)
    )
    lines.append(_user(ADMIN, passwords[ADMIN], "~* &*", "+@all"))
    return "\n".join(lines) + "\n"


def _wake_channels(queues) -> list[str]:
    # Sends publish on these; a context's consumers subscribe to their own.
    return [f"&{wake_channel(name)}" for q in queues for name in (q, f"{q}.DQ")]


def _user(name: str, password: str, keys: str, commands: str) -> str:
    if any(c.isspace() for c in password):
        raise ValueError(f"the password of {name} must not contain spaces")
    return f"user {name} on >{password} resetkeys resetchannels {keys} {commands}"


def _context_user(context: str, queues, password: str) -> str:
    ns = NAMESPACE
    keys = [
        f"~{ns}",
        f"~{ns}:__heartbeats__",
        "~platform:consumers:*",
        "~platform:trace:*",
    ]
    for queue in queues:
        keys += [
            f"~{ns}:{queue}",
            f"~{ns}:{queue}.*",
            f"~{ns}:__acks__.*.{queue}",
            f"~{ns}:__acks__.*.{queue}.DQ",
            f"~platform:stats:{queue}*",
            f"~platform:dead:reasons:{queue}",
        ]
    for route in (r for routes in ROUTES.values() for r in routes):
        if route.queue in queues:
            keys += [
                f"~platform:done:{route.actor}:*",
                f"~platform:claim:{route.actor}:*",
            ]
    keys += _wake_channels([*queues, *targets(context)])
    for queue in targets(context):
        keys += [
            f"%W~{ns}:{queue}",
            f"%W~{ns}:{queue}.msgs",
            f"%W~{ns}:{queue}.DQ",
            f"%W~{ns}:{queue}.DQ.msgs",
            f"~platform:stats:{queue}*",
        ]
    return _user(context, password, " ".join(dict.fromkeys(keys)), CONSUMER_COMMANDS)


def _producer_keys() -> str:
    ns = NAMESPACE
    keys = [f"~{ns}", f"%W~{ns}:__heartbeats__"]
    for queue in PRODUCER_QUEUES:
        keys += [
            f"%W~{ns}:{queue}",
            f"%W~{ns}:{queue}.msgs",
            f"%W~{ns}:{queue}.DQ",
            f"%W~{ns}:{queue}.DQ.msgs",
            f"~platform:stats:{queue}",
        ]
    keys += _wake_channels(PRODUCER_QUEUES)
    return " ".join(keys)


def main(argv: list[str] | None = None) -> None:
    """Write the ACL file and a file of generated passwords (mode 600)."""
    parser = argparse.ArgumentParser(prog="platform-acl", description=__doc__)
    parser.add_argument("--out", type=Path, default=Path("users.acl"))
    parser.add_argument("--passwords-out", type=Path, default=Path("acl-passwords.env"))
    args = parser.parse_args(argv)
    for path in (args.out, args.passwords_out):
        if not path.parent.is_dir():
            parser.error(f"{path.parent} is not a folder; create it or choose another")
    passwords = {user: secrets.token_urlsafe(32) for user in users()}
    args.out.write_text(render(passwords))
    args.out.chmod(0o600)
    args.passwords_out.write_text(
        "".join(
            f"REDIS_PASSWORD_{user.upper()}={pw}\n" for user, pw in passwords.items()
        )
    )
    args.passwords_out.chmod(0o600)
    print(
        f"wrote {args.out} and {args.passwords_out}; give each machine "
        "REDIS_USERNAME=<its user> and that user's password",
        file=sys.stderr,
    )
