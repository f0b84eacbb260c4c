"""What every command-line entry point shares: how user errors end a process."""

import sys
from collections.abc import Iterator
from contextlib import contextmanager

import redis

from shared_kernel.errors import PlatformError

USAGE_EXIT_CODE = 2


@contextmanager
def exit_on_user_error() -> Iterator[None]:
    """Turn an error the user can fix into one line on stderr and exit code 2.

    A traceback helps nobody who set ``REDIS_PORT=abc``; the message names the
    variable and the fix. Bugs still raise with their traceback.
    """
    try:
        yield
    except PlatformError as error:
        _fail(str(error))
    except redis.AuthenticationError:
        _fail(
            "Redis refused the credentials: check REDIS_PASSWORD and REDIS_USERNAME, "
            "or the user and password in REDIS_URL"
        )
    except (redis.ConnectionError, redis.TimeoutError) as error:
        _fail(f"cannot reach Redis ({error}); check REDIS_HOST/REDIS_PORT or REDIS_URL")
    except redis.ResponseError as error:
        if not is_missing_database(error):
            raise
        _fail(f"Redis {MISSING_DATABASE}")


MISSING_DATABASE = (
    "has no database of that number: REDIS_DB (or the /N at the end of "
    "REDIS_URL) must be below the server's 'databases' setting, 16 by default"
)


def is_missing_database(error: redis.ResponseError) -> bool:
    """Whether ``error`` is Redis refusing to select a database it lacks."""
    return "DB index is out of range" in str(error)


def _fail(message: str) -> None:
    print(f"error: {message}", file=sys.stderr)
    sys.exit(USAGE_EXIT_CODE)
