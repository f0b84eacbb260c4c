"""Changelogs in the Keep a Changelog form: a release takes the Unreleased notes.

Each package's ``CHANGELOG.md`` collects what changed under ``## [Unreleased]``
as work lands; a release moves those entries under ``## [<version>] - <date>``
and leaves the Unreleased section empty for the next changes.
"""

import re
from datetime import date

from devtools.packages import ReleaseError

UNRELEASED = "## [Unreleased]"
_NEXT_HEADING = re.compile(r"^## \[", re.MULTILINE)


def release_notes(text: str, version: str, released_on: date) -> str:
    """Return the changelog ``text`` with its Unreleased entries under ``version``.

    Raises:
        ReleaseError: When there is no Unreleased section, it is empty, or the
            changelog already has a section for ``version``.
    """
    start = text.find(UNRELEASED + "\n")
    if start < 0:
        raise ReleaseError(f"the changelog has no '{UNRELEASED}' section; add one")
    if f"## [{version}]" in text:
        raise ReleaseError(f"the changelog already has a section for {version}")

    body_start = start + len(UNRELEASED) + 1
    following = _NEXT_HEADING.search(text, body_start)
    body_end = following.start() if following else len(text)
    entries = text[body_start:body_end].strip()
    if not entries:
        raise ReleaseError(
            f"nothing is listed under '{UNRELEASED}' in the changelog; "
            "describe the changes of this release there first"
        )

    heading = f"## [{version}] - {released_on.isoformat()}"
    rest = text[body_end:]
    return f"{text[:start]}{UNRELEASED}\n\n{heading}\n\n{entries}\n" + (
        f"\n{rest}" if rest else ""
    )
