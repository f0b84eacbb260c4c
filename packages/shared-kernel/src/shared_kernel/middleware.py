"""Dramatiq middleware of the kernel: the log context of each message."""

import contextvars
import threading
from typing import Any

import dramatiq
from loguru import logger

_current: contextvars.ContextVar[dramatiq.Message | None] = contextvars.ContextVar(
    "current_message", default=None
)


def current_message() -> dramatiq.Message | None:
    """Return the message this thread is handling, if any."""
    return _current.get()


def current_message_options() -> dict[str, Any] | None:
    """Return the options of the message this thread is handling, if any."""
    message = _current.get()
    return None if message is None else message.options


def current_idempotency_key() -> str:
    """Return the idempotency key of the message being handled.

    The producer's key when it gave one, else the message id, which stays the
    same across redeliveries and retries of one message.

    Raises:
        RuntimeError: When called outside the handling of a message.
    """
    message = _current.get()
    if message is None:
        raise RuntimeError("no message is being handled in this thread")
    return message.options.get("idempotency_key") or message.message_id


class MessageContext(dramatiq.Middleware):
    """Bind the message id, actor and correlation id to every log line.

    Lines written while a message is handled carry them, and messages sent
    from inside a task inherit the correlation id (see ``messaging.send``).
    """

    def __init__(self) -> None:
        self._local = threading.local()

    def before_process_message(self, broker, message) -> None:
        token = _current.set(message)
        scope = logger.contextualize(
            actor=message.actor_name,
            message_id=message.message_id,
            correlation_id=message.options.get("correlation_id", "-"),
        )
        scope.__enter__()
        self._local.state = (token, scope)

    def after_process_message(self, broker, message, *, result=None, exception=None):
        state = getattr(self._local, "state", None)
        if state is None:
            return
        token, scope = state
        self._local.state = None
        try:
            scope.__exit__(None, None, None)
            _current.reset(token)
        except ValueError:
            # A message interrupted at shutdown can end in another context;
            # its context variables die with the thread anyway.
            pass

    after_skip_message = after_process_message
