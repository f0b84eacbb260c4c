"""Sending the welcome email through a real SMTP server."""

import hashlib
from dataclasses import replace

from context_email.services import compose_welcome, send_welcome
from context_email.smtp import SmtpMailer
from shared_kernel.contracts import SendWelcomeEmail

SENDER = "Platform <platform@example.com>"
COMMAND = SendWelcomeEmail(to="ann@example.com", name="Ann")


def test_welcome_email_arrives_with_text_and_html_parts(smtp_server):
    server = smtp_server()

    send_welcome(
        COMMAND,
        mailer=SmtpMailer(server.settings),
        sender=SENDER,
        idempotency_key="key-1",
    )

    [envelope] = server.handler.envelopes
    assert envelope.mail_from == "platform@example.com"
    assert envelope.rcpt_tos == ["ann@example.com"]
    [message] = server.handler.messages
    assert message["Subject"] == "Welcome, Ann"
    assert message["To"] == "ann@example.com"
    text = message.get_body(("plain",)).get_content()
    html = message.get_body(("html",)).get_content()
    assert "Hello Ann," in text
    assert "<p>Hello Ann,</p>" in html


def test_welcome_message_id_is_derived_from_the_idempotency_key(smtp_server):
    server = smtp_server()

    message_id = send_welcome(
        COMMAND,
        mailer=SmtpMailer(server.settings),
        sender=SENDER,
        idempotency_key="key-1",
    )

    digest = hashlib.sha256(b"key-1").hexdigest()[:32]
    assert message_id == f"<{digest}@example.com>"
    assert server.handler.messages[0]["Message-ID"] == message_id


def test_redelivered_command_is_mailed_with_the_same_message_id(smtp_server):
    server = smtp_server()
    mailer = SmtpMailer(server.settings)

    for _ in range(2):
        send_welcome(COMMAND, mailer=mailer, sender=SENDER, idempotency_key="key-1")

    first, second = server.handler.messages
    assert first["Message-ID"] == second["Message-ID"]


def test_different_idempotency_keys_give_different_message_ids():
    first = compose_welcome(COMMAND, sender=SENDER, idempotency_key="key-1")
    second = compose_welcome(COMMAND, sender=SENDER, idempotency_key="key-2")

    assert first["Message-ID"] != second["Message-ID"]


def test_welcome_email_goes_over_starttls_with_login(
    smtp_server, smtp_login, tls_files, monkeypatch
):
    server = smtp_server(tls=True, require_starttls=True, login=True)
    settings = replace(
        server.settings,
        starttls=True,
        smtp_user=smtp_login.user,
        smtp_password=smtp_login.password,
    )
    # The client trusts the system's CAs; point OpenSSL at the test certificate.
    cert, _ = tls_files
    monkeypatch.setenv("SSL_CERT_FILE", str(cert))

    send_welcome(
        COMMAND, mailer=SmtpMailer(settings), sender=SENDER, idempotency_key="k"
    )

    [message] = server.handler.messages
    assert message["Subject"] == "Welcome, Ann"
