"""Actors of the email context: validate the contract, call the service.

The consumer's ``setup`` binds the mailer and sender with :func:`bind` before
the worker starts; tests bind their own.
"""

from dataclasses import dataclass

from shared_kernel import ReportReady, SendWelcomeEmail, contract_actor
from shared_kernel.middleware import current_idempotency_key

from context_email import services
from context_email.services import MailerPort

SMTP_ACTOR_TIME_LIMIT_MS = 300_000


@dataclass(frozen=True, slots=True)
class Wiring:
    """What the actors need from the composition root."""

    mailer: MailerPort
    sender: str


_wiring: Wiring | None = None


def bind(mailer: MailerPort, *, sender: str) -> None:
    """Give the actors their mailer and sender address."""
    global _wiring
    _wiring = Wiring(mailer=mailer, sender=sender)


def _wired() -> Wiring:
    if _wiring is None:
        raise RuntimeError(
            "context_email.jobs.bind() was not called: start the consumer "
            "with email-consume, or bind a mailer in the test"
        )
    return _wiring


@contract_actor(
    SendWelcomeEmail,
    max_retries=8,
    min_backoff=1_000,
    max_backoff=300_000,
    time_limit=SMTP_ACTOR_TIME_LIMIT_MS,
)
def send_welcome_email(command: SendWelcomeEmail) -> None:
    """Send the welcome email of a new user."""
    wiring = _wired()
    services.send_welcome(
        command,
        mailer=wiring.mailer,
        sender=wiring.sender,
        idempotency_key=current_idempotency_key(),
    )


@contract_actor(
    ReportReady,
    max_retries=8,
    min_backoff=1_000,
    max_backoff=300_000,
    time_limit=SMTP_ACTOR_TIME_LIMIT_MS,
)
def send_report_email(event: ReportReady) -> None:
    """Email a finished report to the recipients it names."""
    wiring = _wired()
    services.send_report(
        event,
        mailer=wiring.mailer,
        sender=wiring.sender,
        idempotency_key=current_idempotency_key(),
    )
