"""Real SMTP servers for the email context's tests.

``smtp_server`` starts an aiosmtpd server on a free port whose handler records
every message it accepts and answers chosen recipients or the DATA command
with a scripted reply. ``silent_server`` accepts TCP connections and never
says a word, as a hung mail server does.
"""

import email
import email.policy
import shutil
import socket
import ssl
import subprocess
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from email.message import EmailMessage
from pathlib import Path

import pytest
from aiosmtpd.controller import Controller
from aiosmtpd.smtp import AuthResult, Envelope
from context_email.config import EmailSettings

HOST = "127.0.0.1"


@dataclass
class ScriptedHandler:
    """Accepts mail like a server would, except where a reply is scripted."""

    rcpt_replies: dict[str, str] = field(default_factory=dict)
    data_reply: str | None = None
    envelopes: list[Envelope] = field(default_factory=list)

    async def handle_RCPT(self, server, session, envelope, address, rcpt_options):
        if address in self.rcpt_replies:
            return self.rcpt_replies[address]
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server, session, envelope):
        if self.data_reply is not None:
            return self.data_reply
        self.envelopes.append(envelope)
        return "250 Message accepted for delivery"

    @property
    def messages(self) -> list[EmailMessage]:
        """Every accepted message, parsed."""
        return [
            email.message_from_bytes(envelope.content, policy=email.policy.default)
            for envelope in self.envelopes
        ]


@dataclass
class SmtpServer:
    """A running test server and the settings that reach it."""

    handler: ScriptedHandler
    settings: EmailSettings


@dataclass(frozen=True)
class Login:
    """The only user and password the test servers accept."""

    user: str = "mailer"
    password: str = "s3cret-Pa55"


StartServer = Callable[..., SmtpServer]


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind((HOST, 0))
        return probe.getsockname()[1]


def _settings_for(port: int, **overrides) -> EmailSettings:
    values = {"smtp_host": HOST, "smtp_port": port, "timeout_s": 2.0}
    return EmailSettings(**(values | overrides))


def _check_login(server, session, envelope, mechanism, auth_data) -> AuthResult:
    login = Login()
    given = (auth_data.login, auth_data.password)
    valid = given == (login.user.encode(), login.password.encode())
    return AuthResult(success=valid, handled=False)


@pytest.fixture
def smtp_login() -> Login:
    """The credentials that ``smtp_server(login=True)`` accepts."""
    return Login()


@pytest.fixture
def smtp_server(request) -> Iterator[StartServer]:
    """Start aiosmtpd servers on demand; stop them after the test.

    Call it with ``rcpt_replies`` ({address: reply}) or ``data_reply`` to
    script refusals, ``login=True`` to require :class:`Login`, ``tls=True`` to
    offer STARTTLS with a self-signed certificate, and any other keyword of
    aiosmtpd's ``SMTP``.
    """
    controllers: list[Controller] = []

    def start(
        *,
        rcpt_replies: dict[str, str] | None = None,
        data_reply: str | None = None,
        login: bool = False,
        tls: bool = False,
        **smtp_options,
    ) -> SmtpServer:
        handler = ScriptedHandler(rcpt_replies or {}, data_reply)
        if login:
            smtp_options.setdefault("authenticator", _check_login)
        if tls:
            files = request.getfixturevalue("tls_files")
            smtp_options["tls_context"] = _server_tls(files)
        port = _free_port()
        controller = Controller(handler, hostname=HOST, port=port, **smtp_options)
        controller.start()
        controllers.append(controller)
        return SmtpServer(handler=handler, settings=_settings_for(port))

    yield start
    for controller in controllers:
        controller.stop()


@pytest.fixture
def silent_server() -> Iterator[EmailSettings]:
    """Listen on a port, let the kernel accept connections, never answer."""
    with socket.socket() as listener:
        listener.bind((HOST, 0))
        listener.listen(8)
        yield _settings_for(listener.getsockname()[1], timeout_s=0.5)


@pytest.fixture
def closed_port() -> EmailSettings:
    """Settings that point at a port nothing listens on."""
    return _settings_for(_free_port())


@pytest.fixture(scope="session")
def tls_files(tmp_path_factory) -> tuple[Path, Path]:
    """Make a self-signed certificate for 127.0.0.1; return (cert, key)."""
    if shutil.which("openssl") is None:
        pytest.skip("the openssl command is needed to make a test certificate")
    folder = tmp_path_factory.mktemp("tls")
    cert, key = folder / "cert.pem", folder / "key.pem"
    subprocess.run(
        ["openssl", "req", "-x509", "-newkey", "ec", "-pkeyopt",
         "ec_paramgen_curve:prime256v1", "-nodes", "-days", "1",
         "-subj", f"/CN={HOST}", "-addext", f"subjectAltName=IP:{HOST}",
         "-keyout", str(key), "-out", str(cert)],
        check=True,
        capture_output=True,
    )  # fmt: skip
    return cert, key


def _server_tls(files: tuple[Path, Path]) -> ssl.SSLContext:
    context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    context.load_cert_chain(*files)
    return context
