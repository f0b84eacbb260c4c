"""Actors of the shared queues, imported by every context's consumer.

More than one context consumes ``notification`` and ``log``; Dramatiq
dead-letters a message whose actor the worker has not imported, so these
actors live in the kernel, where every consumer has them.
"""

from loguru import logger

from shared_kernel.contracts import Notify, RecordLog
from shared_kernel.messaging import contract_actor


@contract_actor(Notify, max_retries=3)
def record_notification(notification: Notify) -> None:
    """Write a notification for operators into the consuming context's log."""
    level = notification.level.upper()
    logger.bind(origin=notification.origin).log(
        level, "Notification from {}: {} {}",
        notification.origin, notification.subject, notification.text,
    )


@contract_actor(RecordLog, max_retries=3)
def record_log(entry: RecordLog) -> None:
    """Write one line, sent by any process, into the consuming context's log."""
    logger.bind(origin=entry.origin).log(
        entry.level.upper(), "Log from {}: {}", entry.origin, entry.text
    )
