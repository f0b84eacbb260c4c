"""The email bounded context.

Its public API for other processes and repositories is in
:mod:`context_email.api`; its consumer starts with ``email-consume``.
"""

__version__ = "0.1.0"
