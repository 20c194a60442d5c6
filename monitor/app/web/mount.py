"""Mounting the console, the API and the Atom feeds on the daemon's aiohttp application, behind
one gate that decides who may do what."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from importlib.resources import files
from pathlib import Path
from urllib.parse import quote

from aiohttp import web

from monitor.app.web import api, atom, console
from monitor.app.web.answers import problem
from monitor.app.web.render import page
from monitor.app.web.security import (
    ACCESS,
    Access,
    Session,
    new_session,
    security_headers,
    set_session_cookie,
)
from monitor.service.context import Services

Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]

OPEN_PATHS = frozenset({"/healthz", "/readyz", "/metrics"})
SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})
# Console forms that change nothing, or only the session: allowed in read-only mode.
READ_ONLY_FORMS = frozenset({"/login", "/logout", "/topics/try"})
MAX_UPLOAD_BYTES = 6 * 1024 * 1024
STATIC = Path(str(files("monitor.app.web") / "static"))


def mount_console(app: web.Application, services: Services) -> None:
    """Add the console, the API and the feeds to ``app``, with their gate and headers."""
    access = Access.from_settings(services.settings)
    app[ACCESS] = access
    app.middlewares.append(security_headers)
    app.middlewares.append(gate)
    api.add_api_routes(app, services)
    atom.add_feed_routes(app)
    console.add_console_routes(app)
    app.router.add_static("/static", STATIC, append_version=False)


def _surface(path: str) -> str:
    if path in OPEN_PATHS or path.startswith("/static/"):
        return "open"
    if path.startswith("/api/"):
        return "api"
    if path.startswith("/feeds/") and path.endswith(".atom"):
        return "feed"
    return "console"


@web.middleware
async def gate(request: web.Request, handler: Handler) -> web.StreamResponse:
    """Who may use what: health and static files are open; the API and the feeds take the
    token as a bearer; the console takes a session cookie, and a CSRF token on every form."""
    surface = _surface(request.path)
    if surface == "open":
        return await handler(request)
    access = request.app[ACCESS]
    if access.closed:
        return problem(
            request,
            403,
            "Forbidden",
            "the server listens beyond loopback without http.token: set the token "
            "(MONITOR_HTTP__TOKEN) to use the console and the API",
        )
    if not access.host_allowed(request):
        return problem(
            request,
            403,
            "Forbidden",
            "without http.token the console answers only to localhost or 127.0.0.1",
        )
    changing = request.method not in SAFE_METHODS
    if surface in ("api", "feed"):
        if access.needs_token and not access.bearer_ok(request):
            return problem(
                request,
                401,
                "Unauthorized",
                "send the token as Authorization: Bearer TOKEN",
                headers={"WWW-Authenticate": 'Bearer realm="monitor"'},
            )
        if changing and access.read_only and not request.path.endswith("/classify"):
            return problem(request, 403, "Forbidden", "this server is read-only (http.read_only)")
        if request.method in ("POST", "PUT", "PATCH"):
            refused = api.body_type_problem(request)
            if refused is not None:
                return refused
        return await handler(request)
    return await _console(request, handler, access, changing)


async def _console(
    request: web.Request, handler: Handler, access: Access, changing: bool
) -> web.StreamResponse:
    session = access.read_session(request)
    signed_in = session is not None and (session.signed_in or not access.needs_token)
    if access.needs_token and not signed_in and request.path != "/login":
        if changing:
            return _refusal(request, access, session, 401, "Your session has ended: sign in again.")
        raise web.HTTPSeeOther(f"/login?next={quote(request.path_qs, safe='/')}")
    if changing:
        if request.content_length and request.content_length > MAX_UPLOAD_BYTES:
            return _refusal(request, access, session, 413, "The upload is too large.")
        form = await request.post()
        if not access.csrf_ok(session, form.get("csrf")):
            return _refusal(
                request,
                access,
                session,
                403,
                "The form's CSRF token is missing or wrong: reload the page and send it again.",
            )
        if access.read_only and request.path not in READ_ONLY_FORMS:
            return _refusal(request, access, session, 403, "This console is read-only.")
    fresh = session is None
    if session is None:
        session = new_session(signed_in=not access.needs_token)
    request["session"] = session
    request["page_context"] = _context(access, session)
    response = await handler(request)
    if fresh and not response.cookies.get("monitor_session"):
        set_session_cookie(response, access, session, request)
    return response


def _context(access: Access, session: Session) -> dict[str, object]:
    return {
        "csrf": access.csrf_token(session),
        "read_only": access.read_only,
        "needs_token": access.needs_token,
        "signed_in": session.signed_in or not access.needs_token,
    }


def _refusal(
    request: web.Request, access: Access, session: Session | None, status: int, message: str
) -> web.Response:
    session = session or new_session(signed_in=False)
    request["page_context"] = _context(access, session)
    return page(request, "refused.html", status=status, message=message)
