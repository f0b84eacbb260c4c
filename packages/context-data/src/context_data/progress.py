"""Progress lines for the long steps of an import, logged at a steady rate.

A step that streams a file calls :meth:`Progress.advance` after each chunk; a
line is logged only once ``every_s`` seconds have passed since the previous
one. A small file is imported with no progress line at all, and a large one
tells its story every few seconds, however fast its chunks go by.
"""

import time

from loguru import logger

from context_data.config import BYTES_PER_MB

DEFAULT_EVERY_S = 5.0


class Progress:
    """Logs how many bytes of a source a step has handled, every ``every_s``.

    Args:
        what: What is being done, as the line starts: ``Downloading <url>``.
        total_bytes: The size to reach, when it is known.
        every_s: The least time between two lines.
    """

    def __init__(self, what: str, *, total_bytes: int | None, every_s: float):
        self._what = what
        self._total_bytes = total_bytes
        self._every_s = every_s
        self._started = self._logged = time.monotonic()
        self._log = logger.bind(context="data")

    def advance(self, done_bytes: int) -> None:
        """Log ``done_bytes`` if ``every_s`` has passed since the last line."""
        now = time.monotonic()
        if now - self._logged < self._every_s:
            return
        self._logged = now
        rate_mb_s = done_bytes / BYTES_PER_MB / max(now - self._started, 1e-6)
        self._log.info(
            "{}: {}, {:.1f} MB/s", self._what, self._amount(done_bytes), rate_mb_s
        )

    def _amount(self, done_bytes: int) -> str:
        done = f"{done_bytes / BYTES_PER_MB:.1f} MB"
        if not self._total_bytes:
            return f"{done} so far"
        percent = 100 * done_bytes / self._total_bytes
        return f"{done} of {self._total_bytes / BYTES_PER_MB:.1f} MB ({percent:.0f}%)"
