"""SmtpMailer: the mailer port, delivering over SMTP with smtplib.

Every failure leaves as a :class:`TransientError` when a retry may help (a 4xx
reply, a lost or refused connection, a timeout) or as a
:class:`PermanentError` when it cannot (a 5xx reply, a server that lacks what
the settings ask of it). Messages name the server and the SMTP code, never
the password.
"""

import smtplib
import ssl
from contextlib import closing
from email.message import EmailMessage

from loguru import logger
from shared_kernel.errors import PermanentError, TaskError, TransientError

from context_email.config import EmailSettings

MAX_REPLY_CHARS = 200

_STEPS: dict[type[smtplib.SMTPResponseException], str] = {
    smtplib.SMTPConnectError: "the connection",
    smtplib.SMTPHeloError: "EHLO/HELO",
    smtplib.SMTPSenderRefused: "MAIL FROM",
    smtplib.SMTPDataError: "DATA",
    smtplib.SMTPAuthenticationError: "AUTH",
}


class SmtpMailer:
    """Delivers each message over its own connection to one SMTP server."""

    def __init__(self, settings: EmailSettings) -> None:
        self._settings = settings

    def send(self, message: EmailMessage) -> None:
        """Deliver ``message`` to every address in its ``To`` header.

        Each socket operation (connecting, every reply) waits at most
        ``timeout_s``: a server that accepts and never answers costs one
        failed attempt, not a stuck worker thread.

        Raises:
            TransientError: When a retry may succeed.
            PermanentError: When no retry can succeed.
        """
        try:
            with closing(self._connect()) as client:
                refused = self._deliver(client, message)
        except (smtplib.SMTPException, OSError) as exc:
            raise _classify(exc, self._settings) from exc

        # Known limit: recipients refused while others accepted the message are
        # logged, not retried; retrying all would mail the others twice (fix:
        # resend to the refused ones only, under the same Message-ID).
        if refused:
            logger.warning(
                "Email: SMTP server {} took {} but refused some recipients: {}",
                self._settings.address,
                message["Message-ID"],
                _refusals(refused),
            )

    def _connect(self) -> smtplib.SMTP:
        # smtplib closes the socket itself when the greeting fails or times out.
        settings = self._settings
        return smtplib.SMTP(
            settings.smtp_host, settings.smtp_port, timeout=settings.timeout_s
        )

    def _deliver(
        self, client: smtplib.SMTP, message: EmailMessage
    ) -> dict[str, tuple[int, bytes]]:
        settings = self._settings
        client.ehlo_or_helo_if_needed()
        if settings.starttls:
            client.starttls(context=ssl.create_default_context())
            client.ehlo()
        if settings.smtp_user:
            client.login(settings.smtp_user, settings.smtp_password or "")

        refused = client.send_message(message)

        _quit_quietly(client, settings)
        return refused


def _quit_quietly(client: smtplib.SMTP, settings: EmailSettings) -> None:
    # The server has accepted the message: a failure from here on must not
    # turn into a retry, which would deliver it a second time.
    try:
        client.quit()
    except (smtplib.SMTPException, OSError) as exc:
        logger.debug("Email: QUIT to SMTP server {} failed: {}", settings.address, exc)


def _classify(exc: OSError, settings: EmailSettings) -> TaskError:
    server = f"SMTP server {settings.address}"
    if _is_timeout(exc):
        return TransientError(
            f"{server} did not answer within SMTP_TIMEOUT_S="
            f"{settings.timeout_s:g} s; will retry"
        )
    if isinstance(exc, smtplib.SMTPException):
        return _smtp_error(exc, server, settings)
    return _network_error(exc, server)


def _is_timeout(exc: OSError) -> bool:
    # smtplib reports a reply that never came as a disconnection, raised while
    # handling the socket's TimeoutError.
    if isinstance(exc, smtplib.SMTPServerDisconnected):
        return isinstance(exc.__context__, TimeoutError)
    return isinstance(exc, TimeoutError)


def _smtp_error(
    exc: smtplib.SMTPException, server: str, settings: EmailSettings
) -> TaskError:
    match exc:
        case smtplib.SMTPRecipientsRefused():
            return _recipients_refused(exc, server)
        case smtplib.SMTPAuthenticationError(smtp_code=code) if code >= 500:
            return PermanentError(
                f"{server} refused the login of SMTP_USER {settings.smtp_user!r} "
                f"with {code}; check SMTP_USER and SMTP_PASSWORD"
            )
        case smtplib.SMTPResponseException(smtp_code=code, smtp_error=reply):
            return _response(exc, server, code, reply)
        case smtplib.SMTPServerDisconnected():
            return TransientError(f"{server} closed the connection: {exc}; will retry")
        case _:
            return PermanentError(
                f"{server} cannot serve this client: {str(exc).rstrip('.')}; "
                "check SMTP_STARTTLS, SMTP_USER and what the server offers"
            )


def _network_error(exc: OSError, server: str) -> TaskError:
    match exc:
        case ssl.SSLCertVerificationError():
            return PermanentError(
                f"{server} has a TLS certificate that does not verify: "
                f"{exc.verify_message}; set SMTP_HOST to the name on it"
            )
        case ConnectionRefusedError():
            return TransientError(f"{server} refused the connection; will retry")
        case _:
            return TransientError(f"{server} could not be reached: {exc}; will retry")


def _response(
    exc: smtplib.SMTPResponseException, server: str, code: int, reply: bytes | str
) -> TaskError:
    step = _STEPS.get(type(exc), "a command")
    text = f"{server} answered {step} with {code} {_text(reply)}"
    if 500 <= code < 600:
        return PermanentError(f"{text}; a retry cannot help")
    return TransientError(f"{text}; will retry")


def _recipients_refused(exc: smtplib.SMTPRecipientsRefused, server: str) -> TaskError:
    codes = [code for code, _ in exc.recipients.values()]
    text = f"{server} refused every recipient: {_refusals(exc.recipients)}"
    if any(400 <= code < 500 for code in codes):
        return TransientError(f"{text}; will retry")
    return PermanentError(f"{text}; fix the addresses, a retry cannot help")


def _refusals(refused: dict[str, tuple[int, bytes]]) -> str:
    items = refused.items()
    return ", ".join(f"{rcpt} ({code} {_text(reply)})" for rcpt, (code, reply) in items)


def _text(reply: bytes | str) -> str:
    if isinstance(reply, bytes):
        reply = reply.decode("utf-8", "replace")
    return " ".join(reply.split())[:MAX_REPLY_CHARS]
