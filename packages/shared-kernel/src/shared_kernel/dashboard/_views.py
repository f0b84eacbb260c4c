"""The pages: the status of every queue and consumer, and one queue in detail.

Each page has a fragment twin that the browser fetches every few seconds to
refresh it in place. The views are plain functions: Starlette runs them in a
thread, so their blocking Redis reads never hold up the event loop.
"""

import re
from urllib.parse import urlencode

from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import JSONResponse, Response

from shared_kernel.dashboard._queries import dead_page, waiting_page
from shared_kernel.queues import ContextQueues, QueueNames
from shared_kernel.status import read_status

NOTICES = {
    "requeued": "Requeued dead letter {id}.",
    "purged": "Purged dead letter {id}.",
    "requeued-all": "Requeued {n} dead letter(s).",
    "purged-all": "Purged {n} dead letter(s).",
    "gone": "Dead letter {id} is no longer there: requeued or purged already.",
    "unreadable": "Dead letter {id} is not a JSON message and cannot run again; "
                  "purge it instead.",
}
_SHOWN_ID = re.compile(r"[\w-]{1,64}")


def index(request: Request) -> Response:
    """The status page: every queue and consumer."""
    return _render(request, "index.html", _status_context(request))


def status_fragment(request: Request) -> Response:
    """The status tables alone, for the page to refresh itself."""
    return _render(request, "_status.html", _status_context(request))


def status_json(request: Request) -> Response:
    """The status as JSON, in the shape of ``platform-status --json``."""
    state = request.app.state
    return JSONResponse(read_status(state.client, state.settings))


def queue(request: Request) -> Response:
    """One queue: its counts, waiting messages and dead letters, paginated."""
    context = _queue_context(request)
    context["notice"] = _notice(request)
    return _render(request, "queue.html", context)


def queue_fragment(request: Request) -> Response:
    """One queue's detail alone, for the page to refresh itself."""
    return _render(request, "_queue.html", _queue_context(request))


def known_queue(request: Request) -> str:
    """Return the queue named in the path.

    Raises:
        HTTPException: 404 when the platform has no such queue.
    """
    name = request.path_params["queue"]
    if name not in set(QueueNames):
        valid = ", ".join(str(q) for q in QueueNames)
        raise HTTPException(404, f"unknown queue {name!r}; the queues are {valid}")
    return name


def page_number(raw: str | None) -> int:
    """Return a page number from a query or form value; 1 when unusable."""
    return int(raw) if raw and raw.isdigit() and 0 < int(raw) < 10**9 else 1


def _status_context(request: Request) -> dict:
    state = request.app.state
    status = read_status(state.client, state.settings)
    rows = queue_rows(status["queues"])
    alive = {context: 0 for context in ContextQueues}
    for consumer in status["consumers"]:
        if consumer["alive"] and consumer["context"] in alive:
            alive[consumer["context"]] += 1
    totals = {field: sum(row[field] for row in rows)
              for field in ("waiting", "delayed", "in_flight", "dead")}
    return {"status": status, "rows": rows, "alive": alive, "totals": totals}


def queue_rows(queues: list[dict]) -> list[dict]:
    """Return one row per queue: a shared queue is listed once, not per context."""
    merged: dict[str, dict] = {}
    for row in queues:
        if row["queue"] in merged:
            merged[row["queue"]]["contexts"].append(row["context"])
        else:
            merged[row["queue"]] = dict(row, contexts=[row["context"]])
    # The queues of one context first, in their order; the shared ones last.
    return sorted(merged.values(), key=lambda row: len(row["contexts"]) > 1)


def _queue_context(request: Request) -> dict:
    name = known_queue(request)
    state = request.app.state
    status = read_status(state.client, state.settings)
    row = next(row for row in queue_rows(status["queues"]) if row["queue"] == name)
    query = request.query_params
    waiting = waiting_page(state.client, name, page_number(query.get("waiting")))
    dead = dead_page(state.store, name, page_number(query.get("dead")))

    def link(which: str | None = None, number: int = 1) -> str:
        pages = {"waiting": waiting.number, "dead": dead.number}
        return "?" + urlencode(pages | ({which: number} if which else {}))

    return {"queue": name, "row": row, "waiting": waiting, "dead": dead, "link": link}


def _notice(request: Request) -> str | None:
    query = request.query_params
    template = NOTICES.get(query.get("done", ""))
    if template is None:
        return None
    count, redis_id = query.get("n", ""), query.get("id", "")
    return template.format(
        id=redis_id if _SHOWN_ID.fullmatch(redis_id) else "?",
        n=count if count.isdigit() else "?",
    )


def _render(request: Request, name: str, context: dict) -> Response:
    context["csrf_token"] = request.app.state.csrf_token
    return request.app.state.templates.TemplateResponse(request, name, context)
