"""``platform-dashboard``: serve the dashboard until Ctrl-C or SIGTERM."""

import argparse

import uvicorn
from loguru import logger

from shared_kernel.broker import redis_client
from shared_kernel.cli import exit_on_user_error
from shared_kernel.dashboard._app import create_app
from shared_kernel.dashboard._config import DashboardSettings
from shared_kernel.logs import configure_logging
from shared_kernel.settings import Settings


def main(argv: list[str] | None = None) -> None:
    """Read the settings, check Redis, then serve the dashboard."""
    args = _parser().parse_args(argv)
    with exit_on_user_error():
        dashboard = DashboardSettings.from_env(host=args.host, port=args.port)
        settings = Settings.from_env()
        configure_logging(settings)
        client = redis_client(settings.redis)
        client.ping()
    app = create_app(client, settings, token=dashboard.token)
    guard = "token required" if dashboard.token else "loopback only, no token"
    logger.bind(context="dashboard").info(
        "Dashboard of {} on {} ({})", settings.redis.address,
        _url(dashboard.host, dashboard.port), guard)
    # Access lines would say the same every 2 s per open page; actions log
    # their own line. log_config=None keeps uvicorn's lines in loguru.
    uvicorn.run(app, host=dashboard.host, port=dashboard.port, log_config=None,
                access_log=False, server_header=False)


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="platform-dashboard",
        description="Serve the web dashboard: queues, consumers and dead letters.",
    )
    parser.add_argument("--host", help="address to listen on (DASHBOARD_HOST, "
                        "default 127.0.0.1; anything else needs DASHBOARD_TOKEN)")
    parser.add_argument("--port", type=_port,
                        help="port to listen on (DASHBOARD_PORT, default 8050)")
    return parser


def _port(text: str) -> int:
    if not text.isdigit() or not 1 <= int(text) <= 65535:
        raise argparse.ArgumentTypeError(f"must be from 1 to 65535, got {text!r}")
    return int(text)


def _url(host: str, port: int) -> str:
    return f"http://[{host}]:{port}/" if ":" in host else f"http://{host}:{port}/"
