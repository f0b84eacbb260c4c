"""Who may use the dashboard, and how its buttons are kept from forgery.

:class:`Guard` checks every request before a view sees it. Without a token the
dashboard listens on loopback only, and the ``Host`` header must name this
machine too: a web page that points its own name at 127.0.0.1 (DNS rebinding)
can then neither read nor drive it. With a token, every request carries it as
the password of HTTP basic auth (any user name) or as a bearer token.

Every form carries the process's CSRF token, and :func:`forged` refuses a POST
without it or from another origin. Responses forbid framing, inline scripts
and caching, so a page cannot be clickjacked or read back from a cache.
"""

import base64
import binascii
import hmac
from urllib.parse import urlsplit

from loguru import logger
from starlette.datastructures import FormData, MutableHeaders
from starlette.requests import Request
from starlette.responses import PlainTextResponse, Response
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from shared_kernel.dashboard._config import is_loopback

REALM = 'Basic realm="platform dashboard", charset="UTF-8"'
SAME_SITE = ("same-origin", "none")
SECURITY_HEADERS = {
    "content-security-policy": (
        "default-src 'self'; img-src 'self' data:; frame-ancestors 'none'; "
        "form-action 'self'; base-uri 'none'"
    ),
    "x-content-type-options": "nosniff",
    "x-frame-options": "DENY",
    "referrer-policy": "same-origin",
    "cache-control": "no-store",
}

log = logger.bind(context="dashboard")


class Guard:
    """ASGI middleware: check the Host header or the token, then add headers.

    Args:
        app: The application to guard.
        token: The token every request must present; None to accept only
            requests addressed to a loopback name.
    """

    def __init__(self, app: ASGIApp, *, token: str | None) -> None:
        self.app = app
        self._token = token.encode() if token else None

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        refusal = self._refusal(Request(scope))
        if refusal is not None:
            await refusal(scope, receive, send)
            return

        async def send_with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                headers = MutableHeaders(scope=message)
                for name, value in SECURITY_HEADERS.items():
                    headers.setdefault(name, value)
            await send(message)

        await self.app(scope, receive, send_with_headers)

    def _refusal(self, request: Request) -> Response | None:
        if self._token is None:
            if is_loopback(request.url.hostname or ""):
                return None
            return PlainTextResponse(
                "this dashboard has no token, so it answers only to a loopback "
                "address: open it as http://127.0.0.1:<port>/", status_code=400)
        header = request.headers.get("authorization")
        presented = presented_token(header or "")
        if presented is not None and hmac.compare_digest(presented, self._token):
            return None
        if header:
            log.warning("Refused a request with wrong credentials from {}",
                        client_address(request))
        return PlainTextResponse("the dashboard token is required", status_code=401,
                                 headers={"www-authenticate": REALM})


def presented_token(header: str) -> bytes | None:
    """Return the token of a basic (the password) or bearer Authorization header."""
    scheme, _, value = header.partition(" ")
    if scheme.lower() == "bearer":
        return value.strip().encode()
    if scheme.lower() != "basic":
        return None
    try:
        decoded = base64.b64decode(value.strip(), validate=True)
    except (binascii.Error, ValueError):
        return None
    return decoded.partition(b":")[2]


def forged(request: Request, form: FormData) -> str | None:
    """Return why a POST must be refused as forged, or None when it is not."""
    expected = request.app.state.csrf_token.encode()
    sent = form.get("csrf")
    if not isinstance(sent, str) or not hmac.compare_digest(sent.encode(), expected):
        return "the form's CSRF token is missing or stale: reload the page"
    fetch_site = request.headers.get("sec-fetch-site")
    if fetch_site is not None and fetch_site not in SAME_SITE:
        return f"a {fetch_site} request may not change anything here"
    origin = request.headers.get("origin")
    # Known limit: a reverse proxy must pass the Host header on unchanged, or
    # every POST looks cross-origin (fix: a DASHBOARD_ORIGIN setting).
    if origin is not None and urlsplit(origin).netloc != request.headers.get("host"):
        return f"a request from {origin} may not change anything here"
    return None


def client_address(request: Request) -> str:
    """Return the client's address for log lines (the proxy's, behind one)."""
    client = request.client
    return f"{client.host}:{client.port}" if client else "unknown"
