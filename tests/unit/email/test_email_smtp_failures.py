"""How SmtpMailer reports what goes wrong: retry may help, or it cannot."""

import time
from dataclasses import replace

import pytest
from context_email.services import compose_welcome
from context_email.smtp import SmtpMailer
from shared_kernel.contracts import SendWelcomeEmail
from shared_kernel.errors import PermanentError, TransientError

SENDER = "platform@example.com"


def welcome(to: str = "ann@example.com"):
    command = SendWelcomeEmail(to=to, name="Ann")
    return compose_welcome(command, sender=SENDER, idempotency_key="key-1")


def test_recipient_answered_with_4xx_is_transient(smtp_server):
    server = smtp_server(rcpt_replies={"ann@example.com": "451 4.3.0 Try later"})

    with pytest.raises(TransientError) as caught:
        SmtpMailer(server.settings).send(welcome())

    message = str(caught.value)
    assert server.settings.address in message
    assert "ann@example.com (451 4.3.0 Try later)" in message


def test_recipient_answered_with_5xx_is_permanent(smtp_server):
    server = smtp_server(rcpt_replies={"ann@example.com": "550 5.1.1 No such user"})

    with pytest.raises(PermanentError) as caught:
        SmtpMailer(server.settings).send(welcome())

    message = str(caught.value)
    assert server.settings.address in message
    assert "550 5.1.1 No such user" in message


@pytest.mark.parametrize(
    ("reply", "error"),
    [("452 4.3.1 Mailbox full", TransientError), ("554 5.6.0 Spam", PermanentError)],
)
def test_refused_data_is_classified_by_its_code(smtp_server, reply, error):
    server = smtp_server(data_reply=reply)

    with pytest.raises(error, match=f"answered DATA with {reply}"):
        SmtpMailer(server.settings).send(welcome())


def test_partly_refused_recipients_do_not_fail_a_delivered_message(smtp_server):
    server = smtp_server(rcpt_replies={"bob@example.org": "550 5.1.1 No such"})
    message = welcome()
    message.replace_header("To", "ann@example.com, bob@example.org")

    SmtpMailer(server.settings).send(message)

    [envelope] = server.handler.envelopes
    assert envelope.rcpt_tos == ["ann@example.com"]


def test_wrong_password_is_permanent_and_never_echoed(smtp_server, smtp_login):
    server = smtp_server(login=True, auth_require_tls=False)
    wrong = smtp_login.password + "-wrong"
    settings = replace(server.settings, smtp_user=smtp_login.user, smtp_password=wrong)

    with pytest.raises(PermanentError) as caught:
        SmtpMailer(settings).send(welcome())

    message = str(caught.value)
    assert "535" in message and settings.address in message
    assert "check SMTP_USER and SMTP_PASSWORD" in message
    assert wrong not in message


@pytest.mark.timeout(10)
def test_server_that_never_answers_fails_transiently_within_the_timeout(
    silent_server,
):
    started_s = time.monotonic()

    with pytest.raises(TransientError) as caught:
        SmtpMailer(silent_server).send(welcome())

    assert time.monotonic() - started_s < silent_server.timeout_s + 1.5
    assert str(caught.value) == (
        f"SMTP server {silent_server.address} did not answer within "
        "SMTP_TIMEOUT_S=0.5 s; will retry"
    )


def test_refused_connection_is_transient(closed_port):
    with pytest.raises(TransientError) as caught:
        SmtpMailer(closed_port).send(welcome())

    assert str(caught.value) == (
        f"SMTP server {closed_port.address} refused the connection; will retry"
    )


def test_starttls_asked_of_a_server_without_it_is_permanent(smtp_server):
    server = smtp_server()
    settings = replace(server.settings, starttls=True)

    with pytest.raises(PermanentError, match="check SMTP_STARTTLS"):
        SmtpMailer(settings).send(welcome())


def test_untrusted_certificate_is_permanent(smtp_server):
    server = smtp_server(tls=True)
    settings = replace(server.settings, starttls=True)

    with pytest.raises(PermanentError, match="TLS certificate that does not verify"):
        SmtpMailer(settings).send(welcome())
