"""One warning line per Redis outage, and one line when it ends.

During an outage every consumer thread, every acknowledgement and every send
fails, once per poll. Operators need the story, not a traceback per poll: the
first failure logs a WARNING, the rest are counted, and the first success logs
how long it lasted.
"""

import threading
import time

from loguru import logger

QUIET_S = 1.0
"""A success ends an outage only this long after the last failure: while a
server goes down or comes up, calls on older connections still get through."""


class OutageLog:
    """Tracks whether Redis is reachable, and says so once per change."""

    def __init__(self, address: str) -> None:
        self.address = address
        self._lock = threading.Lock()
        self._since: float | None = None
        self._last_failure = 0.0
        self._failures = 0

    @property
    def ongoing(self) -> bool:
        """Return whether Redis is currently considered unreachable."""
        return self._since is not None

    def failed(self, error: BaseException) -> None:
        """Note a failed call; the first of an outage logs a warning."""
        with self._lock:
            self._failures += 1
            self._last_failure = time.monotonic()
            if self._since is not None:
                return
            self._since = self._last_failure
        logger.warning("Redis at {} is unreachable ({}); retrying with backoff",
                       self.address, _short(error))

    def succeeded(self) -> None:
        """Note a successful call; the first after an outage logs its end."""
        if self._since is None:
            return
        with self._lock:
            if self._since is None or time.monotonic() - self._last_failure < QUIET_S:
                return
            lasted_s, failures = time.monotonic() - self._since, self._failures
            self._since, self._failures = None, 0
        logger.info("Redis at {} is reachable again after {:.1f} s ({} failed calls)",
                    self.address, lasted_s, failures)


def _short(error: BaseException) -> str:
    text = str(error).strip().splitlines()
    return text[0] if text else type(error).__name__
