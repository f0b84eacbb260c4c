"""The settings of the data context, read from the environment once.

The entry point calls :meth:`DataSettings.from_env` and hands the result to the
adapters it builds; nothing here reads the environment at import time.
"""

import math
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

from shared_kernel.errors import SettingsError

BYTES_PER_MB = 1024 * 1024
DEFAULT_MAX_FILE_MB = 1024
DEFAULT_HTTP_TIMEOUT_S = 30.0


@dataclass(frozen=True, slots=True)
class DataSettings:
    """Where datasets are stored and how much the data context may fetch."""

    data_dir: Path = Path("data")
    max_file_mb: int = DEFAULT_MAX_FILE_MB
    http_timeout_s: float = DEFAULT_HTTP_TIMEOUT_S

    @property
    def max_file_bytes(self) -> int:
        """Return the largest source file accepted, in bytes."""
        return self.max_file_mb * BYTES_PER_MB

    @classmethod
    def from_env(cls, env: Mapping[str, str]) -> "DataSettings":
        """Read ``DATA_DIR``, ``DATA_MAX_FILE_MB`` and ``DATA_HTTP_TIMEOUT_S``.

        An unset or blank variable takes its default: ``./data``, 1024 MB and
        30 seconds.

        Raises:
            SettingsError: When a variable holds a value that cannot be used.
        """
        return cls(
            data_dir=Path(env.get("DATA_DIR", "").strip() or "./data"),
            max_file_mb=_max_file_mb(env.get("DATA_MAX_FILE_MB", "").strip()),
            http_timeout_s=_timeout_s(env.get("DATA_HTTP_TIMEOUT_S", "").strip()),
        )


def _max_file_mb(raw: str) -> int:
    if not raw:
        return DEFAULT_MAX_FILE_MB
    if not (raw.isascii() and raw.isdigit()) or int(raw) == 0:
        raise SettingsError(
            f"DATA_MAX_FILE_MB must be a positive whole number of megabytes, "
            f"got {raw!r}"
        )
    return int(raw)


def _timeout_s(raw: str) -> float:
    if not raw:
        return DEFAULT_HTTP_TIMEOUT_S
    try:
        value = float(raw)
    except ValueError:
        value = math.nan
    if not (math.isfinite(value) and value > 0):
        raise SettingsError(
            f"DATA_HTTP_TIMEOUT_S must be a positive number of seconds "
            f"(such as 30 or 2.5), got {raw!r}"
        )
    return value
