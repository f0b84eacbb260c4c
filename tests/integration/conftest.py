"""SMTP servers that misbehave on purpose, and a look into Redis."""

import asyncio
import email
import email.policy
from collections import Counter
from pathlib import Path

import pytest

from devtools.smtp_sink import EmlWriter, SmtpSink


class ScriptedSmtp(EmlWriter):
    """Writes accepted mail as .eml files, but answers RCPT as scripted.

    ``replies`` maps an address to the replies of its first attempts, in order
    (e.g. ``["451 4.3.0 try later"]``). Every RCPT waits ``slow_s``, and the
    first attempt for each address waits ``slow_first_s``.
    """

    def __init__(
        self,
        folder: Path,
        replies: dict[str, list[str]] | None = None,
        slow_s: float = 0.0,
        slow_first_s: float = 0.0,
    ) -> None:
        super().__init__(folder)
        self.replies = replies or {}
        self.slow_s = slow_s
        self.slow_first_s = slow_first_s
        self.attempts: Counter[str] = Counter()

    async def handle_RCPT(self, server, session, envelope, address, rcpt_options):
        self.attempts[address] += 1
        delay_s = self.slow_s + (
            self.slow_first_s if self.attempts[address] == 1 else 0
        )
        if delay_s:
            await asyncio.sleep(delay_s)
        scripted = self.replies.get(address, [])
        if self.attempts[address] <= len(scripted):
            return scripted[self.attempts[address] - 1]
        envelope.rcpt_tos.append(address)
        return "250 OK"


@pytest.fixture
def scripted_smtp(tmp_path, platform_env):
    """Start a scripted SMTP server; point ``platform_env`` at it."""
    started = []

    def start(**script) -> SmtpSink:
        sink = SmtpSink(
            tmp_path / "scripted-mail",
            handler=ScriptedSmtp(tmp_path / "scripted-mail", **script),
        ).start()
        started.append(sink)
        platform_env["SMTP_PORT"] = str(sink.port)
        return sink

    yield start
    for sink in started:
        sink.stop()


def read_mail(sink: SmtpSink) -> list[email.message.EmailMessage]:
    """Parse every mail the sink received."""
    return [
        email.message_from_bytes(path.read_bytes(), policy=email.policy.default)
        for path in sink.messages()
    ]


def dead_letter_ids(client, queue: str) -> list[str]:
    """Return the ids in the dead-letter queue of ``queue``."""
    return [member.decode() for member in client.zrange(f"dramatiq:{queue}.XQ", 0, -1)]


def held_ids(client) -> int:
    """Count the ids held in every acknowledgement set (bounded SCAN)."""
    return sum(
        client.scard(key) for key in client.scan_iter("dramatiq:__acks__.*", count=100)
    )


@pytest.fixture
def producer(platform_env):
    """Install a broker for this test process, configured like a producer's."""
    import dramatiq

    from shared_kernel import Settings, install_broker

    broker = install_broker(Settings.from_env(platform_env))
    yield broker
    broker.close()
    dramatiq.set_broker(None)
