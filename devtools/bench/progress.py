"""Progress lines of a run: on stderr, so stdout holds only the figures."""

import sys


def say(text: str) -> None:
    """Print one line of progress on stderr at once."""
    print(text, file=sys.stderr, flush=True)
