"""Dramatiq middleware of the kernel: the message each thread is handling."""

import contextvars
import threading
from typing import Any

import dramatiq

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
    """Make the message being handled known to the code that handles it.

    Log lines written meanwhile carry its actor, id and correlation id (the
    patcher of :func:`shared_kernel.logs.configure_logging` reads them), and
    messages sent from inside a task inherit the correlation id (see
    ``messaging.send``).
    """

    def __init__(self) -> None:
        self._local = threading.local()

    def before_process_message(self, broker, message) -> None:
        self._local.token = _current.set(message)

    def after_process_message(self, broker, message, *, result=None, exception=None):
        token = getattr(self._local, "token", None)
        if token is None:
            return
        self._local.token = None
        try:
            _current.reset(token)
        except ValueError:
            # A message interrupted at shutdown can end in another context;
            # its context variables die with the thread anyway.
            pass

    after_skip_message = after_process_message
