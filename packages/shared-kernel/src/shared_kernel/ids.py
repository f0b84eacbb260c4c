"""Random ids for messages, quicker to make than ``uuid.uuid4()``.

A bulk send makes three ids per message; ``uuid4`` builds a ``UUID`` object
for each, which costs more than the rest of the message. These take the same
16 random bytes from the operating system and only format them.
"""

import os


def new_id() -> str:
    """Return 32 random hex digits: a Redis id or a correlation id."""
    return os.urandom(16).hex()


def new_ids(count: int) -> list[str]:
    """Return ``count`` ids as :func:`new_id` makes them, at once."""
    h = os.urandom(16 * count).hex()
    return [h[i : i + 32] for i in range(0, 32 * count, 32)]


def new_message_id() -> str:
    """Return a random version-4 UUID string, as Dramatiq's message ids are."""
    return _uuid4_text(os.urandom(16).hex())


def new_message_ids(count: int) -> list[str]:
    """Return ``count`` ids as :func:`new_message_id` makes them, at once."""
    h = os.urandom(16 * count).hex()
    return [_uuid4_text(h[i : i + 32]) for i in range(0, 32 * count, 32)]


def _uuid4_text(h: str) -> str:
    variant = "89ab"[int(h[16], 16) & 3]
    return f"{h[:8]}-{h[8:12]}-4{h[13:16]}-{variant}{h[17:20]}-{h[20:]}"
