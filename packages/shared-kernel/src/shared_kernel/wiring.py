"""What a context's actors get from its composition root, and stable ids."""

import hashlib
from typing import Generic, TypeVar

T = TypeVar("T")


class Slot(Generic[T]):
    """A dependency that a consumer's ``setup`` fills before the worker starts.

    Actors read it with :meth:`get`; tests fill it with their own adapters.
    """

    def __init__(self, context: str) -> None:
        self._context = context
        self._value: T | None = None

    def bind(self, value: T) -> None:
        """Fill the slot."""
        self._value = value

    def get(self) -> T:
        """Return what the slot holds.

        Raises:
            RuntimeError: When nothing was bound: the actors run outside their
                consumer, and no test bound adapters either.
        """
        if self._value is None:
            raise RuntimeError(
                f"the {self._context} actors were not wired: start them with "
                f"{self._context}-consume, or call context_{self._context}.jobs.bind() "
                "in the test"
            )
        return self._value


def stable_id(prefix: str, idempotency_key: str) -> str:
    """Return an id that every copy of one message derives alike."""
    return f"{prefix}-{hashlib.sha256(idempotency_key.encode()).hexdigest()[:20]}"
