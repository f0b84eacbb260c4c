"""Report folders on disk, replaced all at once.

A report is written into a hidden staging folder next to its final place, then
renamed into place; an older copy is first renamed aside and then deleted. A
reader therefore sees the old report or the new one, never a mix, and a
redelivered message that rebuilds the same report id leaves one report.
"""

import errno
import os
import re
import shutil
import time
import uuid
from collections.abc import Mapping
from pathlib import Path

from loguru import logger

SAFE_NAME = re.compile(r"[A-Za-z0-9][A-Za-z0-9._-]{0,127}")
SWAP_ATTEMPTS = 5
STALE_AFTER_S = 3600
STAGING_PREFIXES = (".tmp-", ".old-")


class ReportFiles:
    """The store of report folders (implements ``ReportFilesPort``).

    Args:
        report_dir: The folder that holds one sub-folder per report id; it is
            created on the first write.
    """

    def __init__(self, report_dir: Path) -> None:
        self._root = Path(report_dir).absolute()

    def write(self, report_id: str, files: Mapping[str, bytes]) -> Path:
        """Replace the folder ``<report_dir>/<report_id>`` by ``files``.

        Returns:
            The absolute path of the report folder.

        Raises:
            ValueError: When the report id or a file name is not a plain name.
        """
        _check_name(report_id, what="report id")
        for name in files:
            _check_name(name, what="file name")
        self._root.mkdir(parents=True, exist_ok=True)
        self._sweep_stale()

        staging = self._root / f".tmp-{report_id}-{uuid.uuid4().hex}"
        staging.mkdir()
        try:
            for name, data in files.items():
                _write_synced(staging / name, data)
            _sync_folder(staging)
            target = self._root / report_id
            self._swap_in(staging, target)
        except BaseException:
            shutil.rmtree(staging, ignore_errors=True)
            raise

        _sync_folder(self._root)
        return target

    def _swap_in(self, staging: Path, target: Path) -> None:
        for _ in range(SWAP_ATTEMPTS):
            retired = self._retire(target)
            try:
                staging.rename(target)
                return
            except OSError as error:
                # Another writer of the same report id renamed its copy in
                # first; retire that copy too, so the newest write wins.
                if error.errno not in (errno.ENOTEMPTY, errno.EEXIST):
                    raise
            finally:
                if retired is not None:
                    shutil.rmtree(retired, ignore_errors=True)
        raise FileExistsError(
            f"report folder {target} kept being replaced by other writers "
            f"({SWAP_ATTEMPTS} attempts); retry the message"
        )

    def _retire(self, target: Path) -> Path | None:
        retired = self._root / f".old-{target.name}-{uuid.uuid4().hex}"
        try:
            target.rename(retired)
        except FileNotFoundError:
            return None
        return retired

    def _sweep_stale(self) -> None:
        """Delete staging folders that a crashed writer left behind."""
        deadline = time.time() - STALE_AFTER_S
        with os.scandir(self._root) as entries:
            stale = [entry.path for entry in entries if _is_stale(entry, deadline)]
        for path in stale:
            logger.warning("ReportFiles: deleting stale staging folder {}", path)
            shutil.rmtree(path, ignore_errors=True)


def _check_name(name: str, *, what: str) -> None:
    if not SAFE_NAME.fullmatch(name):
        raise ValueError(
            f"{what} must be 1 to 128 letters, digits, '.', '_' or '-' and start "
            f"with a letter or digit, got {name!r}"
        )


def _is_stale(entry: os.DirEntry, deadline: float) -> bool:
    if not entry.name.startswith(STAGING_PREFIXES):
        return False
    try:
        return entry.stat(follow_symlinks=False).st_mtime < deadline
    except FileNotFoundError:
        return False


def _write_synced(path: Path, data: bytes) -> None:
    with open(path, "xb") as file:
        file.write(data)
        file.flush()
        os.fsync(file.fileno())


def _sync_folder(folder: Path) -> None:
    """Make the folder's entries (new files, renames) durable on POSIX."""
    if os.name != "posix":
        return
    descriptor = os.open(folder, os.O_RDONLY)
    try:
        os.fsync(descriptor)
    finally:
        os.close(descriptor)
