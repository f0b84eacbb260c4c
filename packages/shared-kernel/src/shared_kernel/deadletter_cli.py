"""The dead-letter command: list, show, requeue and purge failed messages.

``platform-dead`` (or ``hatch run dead``) reads Dramatiq's dead-letter queues
through :class:`~shared_kernel.deadletter_store.DeadLetterStore`. Queue names
are checked against ``QueueNames`` before Redis is contacted; payloads are
shown with their secrets masked. Requeues and purges are logged to the
``app`` log, so the log tells who moved what.
"""

import argparse
import json
import sys
from collections.abc import Iterable

from loguru import logger

from shared_kernel.broker import redis_client
from shared_kernel.cli import exit_on_user_error
from shared_kernel.deadletter_store import DeadLetter, DeadLetterStore
from shared_kernel.errors import PlatformError
from shared_kernel.logs import configure_logging
from shared_kernel.queues import ContextQueues, QueueNames
from shared_kernel.settings import Settings

NOT_FOUND_EXIT_CODE = 1
MAX_LIMIT = 10_000
TABLE_REASON_CHARS = 72
TABLE_PREVIEW_CHARS = 64


class UnknownQueue(PlatformError):
    """Raised when a queue or context name is not one of the platform's."""


class DeadLetterNotFound(PlatformError):
    """Raised when a queue holds no dead letter with the given id."""


def main(argv: list[str] | None = None) -> None:
    """Parse the command line, run one command against Redis, print the outcome."""
    args = _parser().parse_args(argv)
    with exit_on_user_error():
        queues = _queues(args)
        settings = Settings.from_env()
        configure_logging(settings, console=False)
        store = DeadLetterStore(redis_client(settings.redis))
        try:
            _COMMANDS[args.command](store, queues, args)
        except DeadLetterNotFound as error:
            print(f"error: {error}", file=sys.stderr)
            sys.exit(NOT_FOUND_EXIT_CODE)
    sys.stdout.flush()


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="platform-dead",
        description="Inspect, requeue and purge dead-lettered messages.",
    )
    commands = parser.add_subparsers(dest="command", required=True)

    listing = commands.add_parser("list", help="list dead letters, newest first")
    scope = listing.add_mutually_exclusive_group()
    scope.add_argument("--context", help="only the queues this context consumes")
    scope.add_argument("--queue", help="only this queue")
    listing.add_argument("--limit", type=_limit, default=50, help="at most N rows")
    listing.add_argument("--json", action="store_true", help="print JSON")

    show = commands.add_parser("show", help="show one dead letter in full")
    show.add_argument("queue")
    show.add_argument("id")
    show.add_argument("--json", action="store_true", help="print JSON")

    for name, help in (("requeue", "send dead letters back to their queue"),
                       ("purge", "delete dead letters for good")):
        command = commands.add_parser(name, help=help)
        command.add_argument("queue")
        target = command.add_mutually_exclusive_group(required=True)
        target.add_argument("id", nargs="?", help="the dead letter's Redis id")
        target.add_argument("--all", action="store_true", help="every dead letter")
    purge = commands.choices["purge"]
    purge.add_argument("--yes", action="store_true", help="confirm purging --all")
    return parser


def _limit(text: str) -> int:
    if not text.isdigit() or not 1 <= int(text) <= MAX_LIMIT:
        raise argparse.ArgumentTypeError(f"must be from 1 to {MAX_LIMIT}, got {text!r}")
    return int(text)


def _queues(args: argparse.Namespace) -> list[str]:
    if getattr(args, "context", None):
        if args.context not in ContextQueues:
            raise UnknownQueue(
                f"unknown context {args.context!r}; "
                f"valid contexts: {', '.join(ContextQueues)}"
            )
        return list(ContextQueues[args.context])
    name = getattr(args, "queue", None)
    if name is None:
        return [str(queue) for queue in QueueNames]
    if name not in set(QueueNames):
        valid = ", ".join(str(queue) for queue in QueueNames)
        raise UnknownQueue(f"unknown queue {name!r}; valid queues: {valid}")
    return [name]


def _list(store: DeadLetterStore, queues: list[str], args) -> None:
    # Each queue's newest ``limit``, merged: enough for the newest overall.
    letters = [item for queue in queues for item in store.list(queue, limit=args.limit)]
    letters = sorted(letters, key=lambda letter: letter.dead_at, reverse=True)
    letters = letters[: args.limit]
    if args.json:
        print(json.dumps([_summary(letter) for letter in letters], indent=2))
        return
    total = sum(store.count(queue) for queue in queues)
    if not letters:
        print(f"no dead letters in {', '.join(queues)}")
        return
    _print_table(letters)
    print(f"{len(letters)} of {total} dead letters shown")


def _show(store: DeadLetterStore, queues: list[str], args) -> None:
    letter = _find(store, queues[0], args.id)
    if args.json:
        print(json.dumps(dict(_summary(letter), payload=letter.payload), indent=2))
        return
    options = letter.payload.get("options", {})
    rows = [
        ("queue", letter.queue), ("id", letter.redis_id),
        ("message id", letter.message_id), ("actor", letter.actor),
        ("dead at", f"{letter.dead_at.isoformat()} ({format_age(letter.age_s)} ago)"),
        ("retries", options.get("retries", 0)), ("reason", letter.reason),
    ]
    for name, value in rows:
        print(f"{name:<11} {value}")
    payload = dict(letter.payload, options={
        k: v for k, v in options.items() if k != "traceback"})
    print("payload", json.dumps(payload, indent=2, ensure_ascii=False), sep="\n")
    if "traceback" in options:
        # Dramatiq records a traceback only when it retries, so this one is of
        # the last retried attempt, not necessarily of the final failure.
        print("traceback of the last retried attempt", options["traceback"].rstrip(),
              sep="\n")


def _requeue(store: DeadLetterStore, queues: list[str], args) -> None:
    queue = queues[0]
    if args.all:
        moved = store.requeue_all(queue)
        logger.info("Requeued {} dead letters of {}", moved, queue)
        print(f"requeued {_count(moved)} of {queue}")
        if left := store.count(queue):
            print(f"still dead: {_count(left)} (unreadable, or failed again since); "
                  f"see platform-dead list --queue {queue}")
        return
    letter = _find(store, queue, args.id)
    if not store.requeue(queue, args.id):
        raise _not_found(queue, args.id)
    logger.info("Requeued dead letter {} ({}) of {}", args.id, letter.actor, queue)
    print(f"requeued dead letter {args.id} of {queue} "
          f"({letter.actor}, message {letter.message_id})")


def _purge(store: DeadLetterStore, queues: list[str], args) -> None:
    queue = queues[0]
    if args.all:
        count = store.count(queue)
        if count and not args.yes:
            raise PlatformError(f"add --yes to purge {_count(count)} of {queue}")
        purged = store.purge(queue)
        logger.info("Purged {} dead letters of {}", purged, queue)
        print(f"purged {_count(purged)} of {queue}")
        return
    if not store.purge(queue, args.id):
        raise _not_found(queue, args.id)
    logger.info("Purged dead letter {} of {}", args.id, queue)
    print(f"purged dead letter {args.id} of {queue}")


def _find(store: DeadLetterStore, queue: str, redis_id: str) -> DeadLetter:
    letter = store.get(queue, redis_id)
    if letter is None:
        raise _not_found(queue, redis_id)
    return letter


def _not_found(queue: str, redis_id: str) -> DeadLetterNotFound:
    return DeadLetterNotFound(
        f"no dead letter {redis_id!r} in {queue}; "
        f"see its ids with: platform-dead list --queue {queue}"
    )


def _summary(letter: DeadLetter) -> dict:
    return {
        "queue": letter.queue, "id": letter.redis_id,
        "message_id": letter.message_id, "actor": letter.actor,
        "dead_at": letter.dead_at.isoformat(), "age_s": round(letter.age_s, 3),
        "reason": letter.reason, "preview": letter.preview,
    }


def _print_table(letters: Iterable[DeadLetter]) -> None:
    header = ("QUEUE", "ID", "ACTOR", "AGE", "REASON", "PREVIEW")
    rows = [header] + [
        (letter.queue, letter.redis_id, letter.actor, format_age(letter.age_s),
         _clip(letter.reason, TABLE_REASON_CHARS),
         _clip(letter.preview, TABLE_PREVIEW_CHARS))
        for letter in letters
    ]
    widths = [max(len(row[i]) for row in rows) for i in range(len(header) - 1)]
    for row in rows:
        cells = [cell.ljust(width) for cell, width in zip(row, widths)]
        print("  ".join([*cells, row[-1]]))


def format_age(age_s: float) -> str:
    """Return an age the way an operator reads it: 42s, 5m, 3h, 2d."""
    for unit, size_s in (("d", 86_400), ("h", 3_600), ("m", 60)):
        if age_s >= size_s:
            return f"{int(age_s // size_s)}{unit}"
    return f"{int(age_s)}s"


def _clip(text: str, limit: int) -> str:
    return text if len(text) <= limit else text[: limit - 1] + "…"


def _count(n: int) -> str:
    return f"{n} dead letter" + ("" if n == 1 else "s")


_COMMANDS = {"list": _list, "show": _show, "requeue": _requeue, "purge": _purge}


if __name__ == "__main__":
    main()
