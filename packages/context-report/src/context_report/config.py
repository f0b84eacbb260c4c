"""The settings of the report context, read once at its entry point."""

from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

from shared_kernel.errors import SettingsError

DEFAULT_REPORT_DIR = "./reports"


@dataclass(frozen=True, slots=True)
class ReportSettings:
    """Where the report context writes its reports.

    Attributes:
        report_dir: The folder that holds one sub-folder per report id.
    """

    report_dir: Path = Path(DEFAULT_REPORT_DIR)

    @classmethod
    def from_env(cls, env: Mapping[str, str]) -> "ReportSettings":
        """Read ``REPORT_DIR`` (default ``./reports``) from ``env``.

        Raises:
            SettingsError: When ``REPORT_DIR`` cannot name a folder.
        """
        raw = env.get("REPORT_DIR", "").strip() or DEFAULT_REPORT_DIR
        return cls(report_dir=_report_dir(raw))


def _report_dir(raw: str) -> Path:
    if "\x00" in raw:
        raise SettingsError(
            f"REPORT_DIR must be a folder path without NUL characters, got {raw!r}"
        )
    path = Path(raw).expanduser()
    if path.exists() and not path.is_dir():
        raise SettingsError(
            f"REPORT_DIR must be a folder path, got {raw!r}, which is a file; "
            "point it at a folder, or at a path that does not exist yet"
        )
    return path
