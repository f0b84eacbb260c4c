"""Every queue name of the platform, and which context consumes which queue.

Queue names are the only thing two contexts share at run time, so they live
here, in one place. A context's consumer listens on exactly the queues that
``ContextQueues`` lists for it; the shared queues are consumed by every
context, and their actors live in the kernel so that every consumer has them
imported (a Dramatiq worker dead-letters a message whose actor it lacks).
"""

from enum import StrEnum
from types import MappingProxyType


class QueueNames(StrEnum):
    """The name of every queue on the broker."""

    EMAIL_WELCOME = "email.welcome"
    EMAIL_REPORT = "email.report"
    DATA_IMPORT = "data.import"
    REPORT_BUILD = "report.build"
    NOTIFICATION = "notification"
    LOG = "log"


SHARED_QUEUES: tuple[QueueNames, ...] = (QueueNames.NOTIFICATION, QueueNames.LOG)

ContextQueues: MappingProxyType[str, tuple[QueueNames, ...]] = MappingProxyType(
    {
        "email": (QueueNames.EMAIL_WELCOME, QueueNames.EMAIL_REPORT, *SHARED_QUEUES),
        "data": (QueueNames.DATA_IMPORT, *SHARED_QUEUES),
        "report": (QueueNames.REPORT_BUILD, *SHARED_QUEUES),
    }
)
"""The queues each context's consumer listens on, by context name."""

PRODUCER_CONTEXT = "app"
"""The context name of processes that only send messages (the default)."""


def known_contexts() -> tuple[str, ...]:
    """Return every valid ``CONTEXT_NAME``: the consuming contexts and ``app``."""
    return (*ContextQueues, PRODUCER_CONTEXT)


def queues_for(context: str) -> tuple[QueueNames, ...]:
    """Return the queues that the consumer of ``context`` listens on.

    Raises:
        KeyError: When ``context`` consumes no queue.
    """
    return ContextQueues[context]
