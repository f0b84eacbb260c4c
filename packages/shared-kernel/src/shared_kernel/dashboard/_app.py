"""The dashboard's composition root: routes, guard, templates and state."""

import secrets
import time
from pathlib import Path

import redis
from jinja2 import pass_context
from starlette.applications import Starlette
from starlette.exceptions import HTTPException
from starlette.middleware import Middleware
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Mount, Route
from starlette.staticfiles import StaticFiles
from starlette.templating import Jinja2Templates

from shared_kernel.dashboard import _actions as actions
from shared_kernel.dashboard import _views as views
from shared_kernel.dashboard._queries import shown_payload
from shared_kernel.dashboard._security import Guard, log
from shared_kernel.deadletter_cli import format_age
from shared_kernel.deadletter_store import DeadLetterStore
from shared_kernel.settings import Settings

HERE = Path(__file__).parent
REFRESH_MS = 2000
REDIS_WARNING_EVERY_S = 60.0


def create_app(
    client: redis.Redis, settings: Settings, *, token: str | None = None
) -> Starlette:
    """Build the dashboard for the broker that ``client`` reaches.

    Args:
        client: A client of the broker's Redis server.
        settings: The platform's settings (heartbeat timeout, Redis address).
        token: The token every request must carry; None to answer only
            requests addressed to a loopback name.
    """
    app = Starlette(
        routes=_routes(),
        middleware=[Middleware(Guard, token=token)],
        exception_handlers={
            HTTPException: _error_page, redis.RedisError: _redis_unavailable,
        },
    )
    app.state.client = client
    app.state.settings = settings
    app.state.store = DeadLetterStore(client)
    app.state.csrf_token = secrets.token_urlsafe(32)
    app.state.templates = _templates()
    app.state.redis_warned_at_s = 0.0
    return app


def _routes() -> list:
    post = {"methods": ["POST"]}
    dead = "/queues/{queue}/dead"
    return [
        Route("/", views.index, name="index"),
        Route("/fragments/status", views.status_fragment, name="status_fragment"),
        Route("/api/status", views.status_json, name="status_json"),
        Route("/queues/{queue}", views.queue, name="queue"),
        Route("/queues/{queue}/fragment", views.queue_fragment, name="queue_fragment"),
        Route(f"{dead}/requeue-all", actions.requeue_all, name="requeue_all", **post),
        Route(f"{dead}/purge-all", actions.purge_all, name="purge_all", **post),
        Route(f"{dead}/{{redis_id}}/requeue", actions.requeue_one, name="requeue_one",
              **post),
        Route(f"{dead}/{{redis_id}}/purge", actions.purge_one, name="purge_one",
              **post),
        Mount("/static", StaticFiles(directory=HERE / "static"), name="static"),
    ]


def _templates() -> Jinja2Templates:
    templates = Jinja2Templates(directory=HERE / "templates")

    @pass_context
    def path_for(context: dict, name: str, /, **params: str) -> str:
        return context["request"].url_for(name, **params).path

    templates.env.globals.update(
        path_for=path_for, refresh_ms=REFRESH_MS, shown_payload=shown_payload)
    templates.env.filters["age"] = lambda s: "–" if s is None else format_age(s)
    return templates


async def _error_page(request: Request, error: HTTPException) -> Response:
    return _error(request, error.status_code, error.detail)


async def _redis_unavailable(request: Request, error: Exception) -> Response:
    state = request.app.state
    address = state.settings.redis.address
    if time.monotonic() - state.redis_warned_at_s > REDIS_WARNING_EVERY_S:
        state.redis_warned_at_s = time.monotonic()
        log.warning("Cannot reach Redis at {}: {}", address, error)
    return _error(request, 503, f"cannot reach Redis at {address}; "
                                "this page retries by itself")


def _error(request: Request, status_code: int, detail: str) -> Response:
    return request.app.state.templates.TemplateResponse(
        request, "error.html", {"status_code": status_code, "detail": detail},
        status_code=status_code,
    )
