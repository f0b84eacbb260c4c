"""The report bounded context.

Its public API for other processes and repositories is in
:mod:`context_report.api`; its consumer starts with ``report-consume``.
"""

__version__ = "0.1.0"
