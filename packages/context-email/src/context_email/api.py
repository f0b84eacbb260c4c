"""Public API: ask the email context for work from any process or repository.

Install the broker once, then call these functions; they send messages by
queue and actor name, so the caller needs only this package's API and the
kernel, and no SMTP settings::

    from shared_kernel import Settings, install_broker
    from context_email.api import send_welcome_email

    install_broker(Settings.from_env())
    send_welcome_email("ada@example.com", name="Ada")
"""

from shared_kernel import SendWelcomeEmail, send


def send_welcome_email(
    to: str,
    *,
    name: str,
    idempotency_key: str | None = None,
    correlation_id: str | None = None,
) -> str:
    """Enqueue a welcome email to ``to``; return the message id.

    Raises:
        pydantic.ValidationError: When ``to`` is not an email address or
            ``name`` is empty, before anything is enqueued.
    """
    command = SendWelcomeEmail(to=to, name=name)
    [message] = send(
        command, idempotency_key=idempotency_key, correlation_id=correlation_id
    )
    return message.message_id
