"""Retries that end in a retry or a dead letter, never in a lost message."""

from dramatiq.middleware import Retries
from loguru import logger

from shared_kernel.redis_broker import BrokerUnavailable, MessageTooLarge


class SafeRetries(Retries):
    """Dramatiq's retries, safe against Redis being away at the wrong moment.

    Stock Dramatiq schedules a retry by enqueueing the message again; when
    Redis is unreachable at that moment the enqueue raises, the worker then
    acknowledges the message, and it vanishes. Here the enqueue retries for
    the broker's send timeout, and if it still fails the message is failed
    instead, so it is dead-lettered (with its reason) once Redis is back. A
    retry copy that grew over the size limit (Dramatiq adds the traceback to
    it) is dead-lettered too, instead of being acknowledged and lost.
    """

    def after_process_message(self, broker, message, *, result=None, exception=None):
        try:
            super().after_process_message(
                broker, message, result=result, exception=exception
            )
        except (BrokerUnavailable, MessageTooLarge) as error:
            logger.error("Could not schedule a retry of {}: {}; dead-lettering it",
                         message.message_id, error)
            message.fail()
