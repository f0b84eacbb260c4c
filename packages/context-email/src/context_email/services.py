"""Compose the email context's messages and hand them to a mailer.

The domain speaks no SMTP: :class:`MailerPort` is its one way out, so these
functions are tested with any object that has a ``send`` method. Each message
gets a ``Message-ID`` derived from the idempotency key of the message that
asked for it, so a mail sent twice after a redelivery carries the same id
twice and any receiver can recognise the duplicate.
"""

import hashlib
from collections.abc import Sequence
from email.message import EmailMessage
from email.policy import default
from email.utils import formatdate, parseaddr
from typing import Protocol

from loguru import logger
from shared_kernel.contracts import Attachment, ReportReady, SendWelcomeEmail
from shared_kernel.errors import PermanentError

from context_email.rendering import RenderedEmail, render

FALLBACK_CONTENT_TYPE = ("application", "octet-stream")


class MailerPort(Protocol):
    """Delivers composed messages (``SmtpMailer`` in production)."""

    def send(self, message: EmailMessage) -> None:
        """Deliver ``message`` to every address in its ``To`` header.

        Raises:
            TransientError: When a retry may succeed.
            PermanentError: When no retry can succeed.
        """


def message_id_for(idempotency_key: str, *, sender: str) -> str:
    """Return the ``Message-ID`` of the mail sent under ``idempotency_key``."""
    digest = hashlib.sha256(idempotency_key.encode()).hexdigest()[:32]
    return f"<{digest}@{_domain(sender)}>"


def compose_welcome(
    command: SendWelcomeEmail, *, sender: str, idempotency_key: str
) -> EmailMessage:
    """Compose the welcome email for the new user of ``command``."""
    rendered = render("welcome", {"name": command.name, "to": command.to})
    return _message(
        rendered, sender=sender, to=(command.to,), idempotency_key=idempotency_key
    )


def compose_report(
    event: ReportReady, *, sender: str, idempotency_key: str
) -> EmailMessage:
    """Compose one email to all recipients of ``event``, its files attached.

    Raises:
        PermanentError: When the event has no recipients.
    """
    if not event.recipients:
        raise PermanentError(
            f"report {event.report_id!r} has no recipients; check them before "
            "composing, as send_report does"
        )
    rendered = render("report", _report_variables(event))
    message = _message(
        rendered, sender=sender, to=event.recipients, idempotency_key=idempotency_key
    )
    for attachment in event.attachments:
        _attach(message, attachment)
    return message


def send_welcome(
    command: SendWelcomeEmail,
    *,
    mailer: MailerPort,
    sender: str,
    idempotency_key: str,
) -> str:
    """Compose and send the welcome email; return its ``Message-ID``."""
    message = compose_welcome(command, sender=sender, idempotency_key=idempotency_key)
    mailer.send(message)
    logger.info("Email: welcome {} sent to {}", message["Message-ID"], command.to)
    return message["Message-ID"]


def send_report(
    event: ReportReady,
    *,
    mailer: MailerPort,
    sender: str,
    idempotency_key: str,
) -> str | None:
    """Send the report email; return its ``Message-ID``, or None if unsent.

    An event without recipients is a report nobody asked to receive by mail:
    it is logged and nothing is sent.
    """
    if not event.recipients:
        logger.info("Email: report {} has no recipients, none sent", event.report_id)
        return None

    message = compose_report(event, sender=sender, idempotency_key=idempotency_key)
    mailer.send(message)

    logger.info(
        "Email: report {} sent as {} to {} recipient(s) with {} attachment(s)",
        event.report_id,
        message["Message-ID"],
        len(event.recipients),
        len(event.attachments),
    )
    return message["Message-ID"]


def _message(
    rendered: RenderedEmail,
    *,
    sender: str,
    to: Sequence[str],
    idempotency_key: str,
) -> EmailMessage:
    message = EmailMessage()
    message["Subject"] = rendered.subject
    message["From"] = sender
    message["To"] = ", ".join(to)
    message["Date"] = formatdate(usegmt=True)
    message["Message-ID"] = message_id_for(idempotency_key, sender=sender)
    message.set_content(rendered.text)
    message.add_alternative(rendered.html, subtype="html")
    return message


def _report_variables(event: ReportReady) -> dict[str, object]:
    return {
        "title": event.title,
        "summary": event.summary,
        "dataset_name": event.dataset_name,
        "dataset_id": event.dataset_id,
        "report_id": event.report_id,
        "attachments": [attachment.filename for attachment in event.attachments],
    }


def _attach(message: EmailMessage, attachment: Attachment) -> None:
    maintype, subtype, params = _content_type(attachment)
    message.add_attachment(
        attachment.content,
        maintype=maintype,
        subtype=subtype,
        params=params,
        filename=attachment.filename,
    )


def _content_type(attachment: Attachment) -> tuple[str, str, dict[str, str]]:
    header = default.header_factory("Content-Type", attachment.content_type)
    if not header.defects and header.maintype not in ("multipart", "message"):
        return header.maintype, header.subtype, dict(header.params)
    logger.warning(
        "Email: attachment {!r} has content type {!r}; sending it as {}/{}",
        attachment.filename,
        attachment.content_type,
        *FALLBACK_CONTENT_TYPE,
    )
    return *FALLBACK_CONTENT_TYPE, {}


def _domain(sender: str) -> str:
    _, address = parseaddr(sender)
    return address.rpartition("@")[2] or "localhost"
