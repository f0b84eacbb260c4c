"""The data bounded context.

Its public API for other processes and repositories is in
:mod:`context_data.api`; its consumer starts with ``data-consume``.
"""

__version__ = "0.1.0"
