"""The producer command: send commands to the contexts from any machine.

It needs only the kernel and a Redis connection; it never imports a context.
Each sent message is printed as ``<queue> <actor> <message id>``.
"""

import argparse
import sys
from pathlib import Path

from loguru import logger
from pydantic import ValidationError

from shared_kernel.broker import install_broker
from shared_kernel.cli import exit_on_user_error
from shared_kernel.contracts import (
    Contract,
    ImportDataset,
    Notify,
    RecordLog,
    SendWelcomeEmail,
)
from shared_kernel.errors import ContractError
from shared_kernel.logs import configure_logging
from shared_kernel.messaging import describe_validation_error, send
from shared_kernel.settings import Settings

SAMPLE_SOURCE = "sample:orders"


def main(argv: list[str] | None = None) -> None:
    """Parse the command line, build the commands, send them, print their ids."""
    args = _parser().parse_args(argv)
    with exit_on_user_error():
        commands = _build(args)
        settings = Settings.from_env()
        settings.require_secure()
        configure_logging(settings, console=False)
        install_broker(settings)
        for command in commands:
            for message in send(command, idempotency_key=args.idempotency_key):
                print(message.queue_name, message.actor_name, message.message_id)
                logger.info("Sent {} as {}", type(command).__name__, message.message_id)
    sys.stdout.flush()


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="produce", description="Send commands to the platform's contexts."
    )
    parser.add_argument(
        "--idempotency-key",
        help="messages sent with the same key take effect once",
    )
    commands = parser.add_subparsers(dest="command", required=True)

    welcome = commands.add_parser("welcome", help="send a welcome email")
    welcome.add_argument("address")
    welcome.add_argument("--name", help="the greeting's name (default: from ADDRESS)")
    welcome.add_argument("--count", type=int, default=1, help="send N emails")

    load = commands.add_parser("import", help="import a CSV dataset and report it")
    load.add_argument("source", help="a path on the data host, or an http(s) URL")
    load.add_argument("--report-to", action="append", default=[], metavar="ADDRESS")
    load.add_argument("--name", help="the dataset's name (default: the file name)")

    commands.add_parser("sample", help="send one task of every kind")
    return parser


def _build(args: argparse.Namespace) -> list[Contract]:
    try:
        if args.command == "welcome":
            return _welcome(args.address, args.name, args.count)
        if args.command == "import":
            return [_import(args.source, args.report_to, args.name)]
        return _sample()
    except ValidationError as error:
        raise ContractError(
            f"invalid {args.command} command: {describe_validation_error(error)}"
        ) from None


def _welcome(address: str, name: str | None, count: int) -> list[Contract]:
    if not 1 <= count <= 100_000:
        raise ContractError(f"--count must be from 1 to 100000, got {count}")
    name = name or address.partition("@")[0] or address
    return [SendWelcomeEmail(to=address, name=name) for _ in range(count)]


def _import(source: str, report_to: list[str], name: str | None) -> ImportDataset:
    local = Path(source).expanduser()
    is_path = (
        source.strip() and "://" not in source and not source.startswith("sample:")
    )
    if is_path and local.exists():
        # A path that exists here is sent absolute; the data host may run
        # elsewhere, where the same path must exist.
        source = str(local.resolve())
    return ImportDataset(source=source, report_to=tuple(report_to), dataset_name=name)


def _sample() -> list[Contract]:
    return [
        SendWelcomeEmail(to="ada@example.com", name="Ada"),
        SendWelcomeEmail(to="grace@example.com", name="Grace"),
        ImportDataset(source=SAMPLE_SOURCE, report_to=("reports@example.com",)),
        Notify(subject="Sample tasks sent", text="one of each kind", origin="app"),
        RecordLog(text="sample run started", origin="app"),
    ]


if __name__ == "__main__":
    main()
