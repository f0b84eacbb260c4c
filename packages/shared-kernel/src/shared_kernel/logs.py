"""Logging for every process: console, a rotating context log and an error log.

Files live in ``LOG_DIR/<context>/``: ``<context>.log`` holds every line and
``errors.log`` the errors. Neither name is a prefix of the other, so the
rotation of one never matches the backups of the other. Several processes (the
worker processes of one consumer, or replicas sharing a mounted folder) write
the same files: rotation goes through ``concurrent-log-handler``, which takes a
file lock around each write and each rollover, so no line is split or lost.
"""

import logging
import sys
from pathlib import Path

from concurrent_log_handler import ConcurrentRotatingFileHandler
from loguru import logger

from shared_kernel.errors import TaskError
from shared_kernel.middleware import current_message
from shared_kernel.redaction import redact
from shared_kernel.settings import Settings

ROTATE_AT_BYTES = 10 * 1024 * 1024
BACKUP_COUNT = 5
LINE_FORMAT = (
    "{time:YYYY-MM-DD HH:mm:ss.SSS} | {level: <8} | {extra[context]} | "
    "{process} | {extra[actor]} {extra[message_id]} {extra[correlation_id]} | "
    "{message}"
)
CONSOLE_FORMAT = (
    "<green>{time:HH:mm:ss.SSS}</green> | <level>{level: <8}</level> | "
    "<cyan>{extra[context]}</cyan> | {extra[actor]} {extra[message_id]} "
    "{extra[correlation_id]} | <level>{message}</level>"
)


# Dramatiq says the first three once per consumer thread per second while
# Redis is away; the broker's outage log says it once per outage instead. The
# others repeat what the idempotency and dead-letter middleware say better.
DEMOTED_TO_DEBUG = (
    "Consumer encountered a connection error",
    "Restarting consumer in",
    "Failed to post_process_message",
    "Message %s was skipped",
    "Failed to process message %s with expected exception",
    "Retries exceeded for message",
    "Aborting message",
    "Received message for undefined actor",
)
FAILED_ATTEMPT = "Failed to process message %s with unhandled exception"

class InterceptHandler(logging.Handler):
    """Send the records of stdlib loggers (Dramatiq's, redis') into loguru.

    Dramatiq names a message by its arguments; those lines are rewritten to
    name it by id, and an expected, transient task failure becomes one
    WARNING line instead of a traceback per attempt.
    """

    def emit(self, record: logging.LogRecord) -> None:
        level, text, exc_info = _translate(record)
        logger.opt(depth=6, exception=exc_info).log(level, "{}: {}", record.name, text)


def _translate(record: logging.LogRecord) -> tuple[str | int, str, object]:
    template = str(record.msg)
    if record.name.startswith("dramatiq") and template.startswith(DEMOTED_TO_DEBUG):
        return "DEBUG", template.split(" %", 1)[0], None
    if template.startswith(FAILED_ATTEMPT) and record.exc_info:
        message, error = record.args[0], record.exc_info[1]
        name = getattr(message, "message_id", "?")
        if isinstance(error, TaskError):
            return "WARNING", f"Attempt at {name} failed: {error}", None
        return "ERROR", f"Attempt at {name} failed unexpectedly", record.exc_info
    try:
        level: str | int = logger.level(record.levelname).name
    except ValueError:
        level = record.levelno
    return level, record.getMessage(), record.exc_info


def _patch_record(record: dict) -> None:
    # The fields of the message being handled are read here, for the lines
    # written, rather than bound for every message handled.
    message = current_message()
    if message is not None:
        extra = record["extra"]
        extra["actor"] = message.actor_name
        extra["message_id"] = message.message_id
        extra["correlation_id"] = message.options.get("correlation_id", "-")
    record["message"] = redact(record["message"])


def log_paths(settings: Settings) -> tuple[Path, Path]:
    """Return the context log and the error log of the settings' context."""
    folder = settings.log_dir / settings.context_name
    return folder / f"{settings.context_name}.log", folder / "errors.log"


def configure_logging(
    settings: Settings,
    *,
    console: bool = True,
    rotate_at_bytes: int = ROTATE_AT_BYTES,
) -> None:
    """Route all logging of this process to the console and the context's files.

    Call it once, at the entry point, in every process.
    """
    main_path, error_path = log_paths(settings)
    main_path.parent.mkdir(parents=True, exist_ok=True)
    error_path.touch(exist_ok=True)  # present from the start, errors or not

    logger.remove()
    logger.configure(
        patcher=_patch_record,
        extra={
            "context": settings.context_name,
            "actor": "-",
            "message_id": "-",
            "correlation_id": "-",
        }
    )
    # diagnose=False: tracebacks must not print local variables, which hold
    # passwords and message payloads.
    if console:
        logger.add(sys.stderr, level=settings.log_level, format=CONSOLE_FORMAT,
                   diagnose=False)
    for path, level in ((main_path, settings.log_level), (error_path, "ERROR")):
        logger.add(_rotating(path, rotate_at_bytes), level=level, format=LINE_FORMAT,
                   diagnose=False)

    logging.basicConfig(handlers=[InterceptHandler()], level=logging.INFO, force=True)
    logging.getLogger("dramatiq").setLevel(_stdlib_level(settings.log_level))


def _rotating(path: Path, rotate_at_bytes: int) -> logging.Handler:
    handler = ConcurrentRotatingFileHandler(
        str(path),
        maxBytes=rotate_at_bytes,
        backupCount=BACKUP_COUNT,
        encoding="utf-8",
        use_gzip=False,
    )
    handler.setFormatter(logging.Formatter("%(message)s"))
    return handler


def _stdlib_level(level: str) -> int:
    return {"TRACE": logging.DEBUG, "SUCCESS": logging.INFO}.get(
        level, logging.getLevelName(level)
    )
