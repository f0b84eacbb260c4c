"""Actors of the email context: validate the contract, call the service.

The consumer's ``setup`` binds the mailer and sender with :func:`bind` before
the worker starts; tests bind their own.
"""

from dataclasses import dataclass

from shared_kernel import ReportReady, SendWelcomeEmail, contract_actor
from shared_kernel.middleware import current_idempotency_key
from shared_kernel.wiring import Slot

from context_email import services
from context_email.services import MailerPort

SMTP_ACTOR_OPTIONS = {
    "max_retries": 8,
    "min_backoff": 1_000,
    "max_backoff": 300_000,
    "time_limit": 300_000,
}


@dataclass(frozen=True, slots=True)
class Wiring:
    """What the actors need from the composition root."""

    mailer: MailerPort
    sender: str


_wiring: Slot[Wiring] = Slot("email")


def bind(mailer: MailerPort, *, sender: str) -> None:
    """Give the actors their mailer and sender address."""
    _wiring.bind(Wiring(mailer=mailer, sender=sender))


@contract_actor(SendWelcomeEmail, **SMTP_ACTOR_OPTIONS)
def send_welcome_email(command: SendWelcomeEmail) -> None:
    """Send the welcome email of a new user."""
    wiring = _wiring.get()
    services.send_welcome(
        command,
        mailer=wiring.mailer,
        sender=wiring.sender,
        idempotency_key=current_idempotency_key(),
    )


@contract_actor(ReportReady, **SMTP_ACTOR_OPTIONS)
def send_report_email(event: ReportReady) -> None:
    """Email a finished report to the recipients it names."""
    wiring = _wiring.get()
    services.send_report(
        event,
        mailer=wiring.mailer,
        sender=wiring.sender,
        idempotency_key=current_idempotency_key(),
    )
