"""The buttons: requeue or purge one dead letter, or all of a queue's.

Each is a POST from the queue page's forms, checked against forgery, done
through :class:`~shared_kernel.deadletter_store.DeadLetterStore`, logged with
the queue, the ids and the client's address, and answered with a redirect
back to the queue page, which says what happened.
"""

from starlette.concurrency import run_in_threadpool
from starlette.datastructures import FormData
from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import RedirectResponse, Response

from shared_kernel.dashboard._security import client_address, forged, log
from shared_kernel.dashboard._views import known_queue, page_number
from shared_kernel.deadletter_store import DeadLetterStore, UnreadableDeadLetter


async def requeue_one(request: Request) -> Response:
    """Send one dead letter back to its queue with its retries reset."""
    queue, form = await _checked(request)
    redis_id = request.path_params["redis_id"]
    store: DeadLetterStore = request.app.state.store
    letter = await run_in_threadpool(store.get, queue, redis_id)
    try:
        moved = letter is not None and await run_in_threadpool(
            store.requeue, queue, redis_id)
    except UnreadableDeadLetter:
        return _back(request, queue, form, "unreadable", id=redis_id)
    if not moved:
        return _back(request, queue, form, "gone", id=redis_id)
    log.info("Client {} requeued dead letter {} of {} (message {}, actor {})",
             client_address(request), redis_id, queue, letter.message_id,
             letter.actor)
    return _back(request, queue, form, "requeued", id=redis_id)


async def purge_one(request: Request) -> Response:
    """Purge one dead letter: delete it for good."""
    queue, form = await _checked(request)
    redis_id = request.path_params["redis_id"]
    store: DeadLetterStore = request.app.state.store
    if not await run_in_threadpool(store.purge, queue, redis_id):
        return _back(request, queue, form, "gone", id=redis_id)
    log.info("Client {} purged dead letter {} of {}",
             client_address(request), redis_id, queue)
    return _back(request, queue, form, "purged", id=redis_id)


async def requeue_all(request: Request) -> Response:
    """Send every readable dead letter of a queue back to it."""
    queue, form = await _checked(request)
    moved = await run_in_threadpool(request.app.state.store.requeue_all, queue)
    log.info("Client {} requeued all {} dead letters of {}",
             client_address(request), moved, queue)
    return _back(request, queue, form, "requeued-all", n=moved)


async def purge_all(request: Request) -> Response:
    """Purge every dead letter of a queue: delete them for good."""
    queue, form = await _checked(request)
    purged = await run_in_threadpool(request.app.state.store.purge, queue)
    log.info("Client {} purged all {} dead letters of {}",
             client_address(request), purged, queue)
    return _back(request, queue, form, "purged-all", n=purged)


async def _checked(request: Request) -> tuple[str, FormData]:
    queue = known_queue(request)
    form = await request.form(max_files=0, max_fields=10)
    reason = forged(request, form)
    if reason is not None:
        log.warning("Refused a forged {} from {}: {}", request.url.path,
                    client_address(request), reason)
        raise HTTPException(403, reason)
    return queue, form


def _back(request: Request, queue: str, form: FormData, done: str,
          **details: str | int) -> Response:
    pages = {name: page_number(_text(form.get(name))) for name in ("waiting", "dead")}
    url = request.url_for("queue", queue=queue).include_query_params(
        **pages, done=done, **details)
    # A relative target stays right behind a proxy that rewrites the scheme.
    return RedirectResponse(f"{url.path}?{url.query}", status_code=303)


def _text(value: object) -> str | None:
    return value if isinstance(value, str) else None
