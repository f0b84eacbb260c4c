"""Small helpers shared by the tests."""

import time
from collections.abc import Callable


def wait_for(predicate: Callable[[], bool], *, timeout_s: float = 30.0,
             interval_s: float = 0.1) -> bool:
    """Poll ``predicate`` until it is true or the time is up; return its last value."""
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        if predicate():
            return True
        time.sleep(interval_s)
    return predicate()
