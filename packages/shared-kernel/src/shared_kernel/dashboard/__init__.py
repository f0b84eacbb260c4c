"""The web dashboard: every queue and consumer at a glance, and the dead letters.

``platform-dashboard`` (``hatch run dashboard``) serves a small page that
shows what ``platform-status`` prints and refreshes it every two seconds; each
queue opens onto its waiting messages and dead letters, paginated and with
secrets masked, with buttons to requeue or delete dead letters. It runs only
when started, listens on 127.0.0.1 by default, and needs ``DASHBOARD_TOKEN``
to listen anywhere else.
"""

from shared_kernel.dashboard._app import create_app
from shared_kernel.dashboard._cli import main
from shared_kernel.dashboard._config import DashboardSettings

__all__ = ["main", "create_app", "DashboardSettings"]
