"""Mailing a finished report, attachments and all, through a real SMTP server."""

import pytest
from context_email.services import compose_report, send_report
from context_email.smtp import SmtpMailer
from loguru import logger
from shared_kernel.contracts import Attachment, ReportReady
from shared_kernel.errors import PermanentError

SENDER = "platform@example.com"
CSV_BYTES = "city,temp\nZürich,21.5\n".encode()
PNG_BYTES = b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR" + bytes(range(256))


def report_event(**changes) -> ReportReady:
    values = {
        "report_id": "r-42",
        "dataset_id": "d-7",
        "dataset_name": "weather",
        "title": "Weather profile",
        "summary": "2 columns, 1 row.",
        "report_path": "/reports/r-42.html",
        "recipients": ("ann@example.com", "bob@example.org"),
        "attachments": (
            Attachment.of("profile.csv", "text/csv; charset=utf-8", CSV_BYTES),
            Attachment.of("chart.png", "image/png", PNG_BYTES),
        ),
    }
    return ReportReady(**(values | changes))


def test_report_email_reaches_every_recipient_in_one_message(smtp_server):
    server = smtp_server()

    send_report(
        report_event(),
        mailer=SmtpMailer(server.settings),
        sender=SENDER,
        idempotency_key="report-key",
    )

    [envelope] = server.handler.envelopes
    assert envelope.rcpt_tos == ["ann@example.com", "bob@example.org"]
    [message] = server.handler.messages
    assert message["Subject"] == "Report ready: weather"
    assert "2 columns, 1 row." in message.get_body(("plain",)).get_content()


def test_report_email_carries_both_attachments_byte_for_byte(smtp_server):
    server = smtp_server()

    send_report(
        report_event(),
        mailer=SmtpMailer(server.settings),
        sender=SENDER,
        idempotency_key="report-key",
    )

    [message] = server.handler.messages
    received = {
        part.get_filename(): (part.get_content_type(), part.get_payload(decode=True))
        for part in message.iter_attachments()
    }
    assert received == {
        "profile.csv": ("text/csv", CSV_BYTES),
        "chart.png": ("image/png", PNG_BYTES),
    }


def test_attachment_with_unusable_content_type_goes_as_octet_stream():
    event = report_event(attachments=(Attachment.of("x.bin", "not a type", b"\x00"),))

    message = compose_report(event, sender=SENDER, idempotency_key="k")

    [part] = message.iter_attachments()
    assert part.get_content_type() == "application/octet-stream"
    assert part.get_payload(decode=True) == b"\x00"


def test_report_without_recipients_sends_nothing_and_says_so(smtp_server):
    server = smtp_server()
    lines: list[str] = []
    sink = logger.add(lines.append, format="{message}")

    try:
        message_id = send_report(
            report_event(recipients=()),
            mailer=SmtpMailer(server.settings),
            sender=SENDER,
            idempotency_key="report-key",
        )
    finally:
        logger.remove(sink)

    assert message_id is None
    assert server.handler.envelopes == []
    assert any("report r-42 has no recipients" in line for line in lines)


def test_composing_a_report_without_recipients_is_a_permanent_error():
    with pytest.raises(PermanentError, match="report 'r-42' has no recipients"):
        compose_report(report_event(recipients=()), sender=SENDER, idempotency_key="k")
