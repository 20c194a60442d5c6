"""Who may use the console and the API: a token when one is set (or when the server listens
beyond loopback), a signed session cookie for the console, a CSRF token in every form, and
security headers on every answer.

Sessions are stateless: the cookie holds a random id, its age, and an HMAC of both under a key
derived from the token, so changing the token ends every session and a restart ends none.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import ipaddress
import secrets
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass

from aiohttp import web

from monitor.settings import Settings

Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]

SESSION_COOKIE = "monitor_session"
SESSION_SECONDS = 12 * 3600
CSP = (
    "default-src 'none'; style-src 'self'; img-src 'self' data:; form-action 'self'; "
    "frame-ancestors 'none'; base-uri 'none'"
)
SECURITY_HEADERS = {
    "Content-Security-Policy": CSP,
    "X-Content-Type-Options": "nosniff",
    "X-Frame-Options": "DENY",
    "Referrer-Policy": "same-origin",
    "Cross-Origin-Opener-Policy": "same-origin",
}
LOCAL_HOST_NAMES = frozenset({"localhost", "127.0.0.1", "::1"})


def is_loopback(host: str) -> bool:
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


@dataclass(frozen=True, slots=True)
class Session:
    """A console session: its id (the CSRF token derives from it) and whether it logged in."""

    id: str
    signed_in: bool


@dataclass(frozen=True)
class Access:
    """The access rules of one server, from the settings."""

    token: str | None
    bound_locally: bool
    read_only: bool
    key: bytes

    @classmethod
    def from_settings(cls, settings: Settings) -> Access:
        token = settings.http.token.get_secret_value() if settings.http.token else None
        host, _ = settings.http_address()
        key = (
            hashlib.sha256(b"monitor console session\0" + token.encode()).digest()
            if token
            else secrets.token_bytes(32)
        )
        return cls(
            token=token,
            bound_locally=is_loopback(host),
            read_only=settings.http.read_only,
            key=key,
        )

    @property
    def needs_token(self) -> bool:
        return self.token is not None

    @property
    def closed(self) -> bool:
        """Bound beyond loopback with no token: the console and API refuse everyone."""
        return self.token is None and not self.bound_locally

    def host_allowed(self, request: web.Request) -> bool:
        """Without a token only local host names are served, so a page on another site cannot
        reach the console by pointing its own DNS name at 127.0.0.1 (DNS rebinding)."""
        if self.needs_token:
            return True
        host = (request.url.host or "").strip("[]").lower()
        return host in LOCAL_HOST_NAMES

    def token_matches(self, given: str | None) -> bool:
        if self.token is None or not given:
            return False
        return hmac.compare_digest(given.encode(), self.token.encode())

    def bearer_ok(self, request: web.Request) -> bool:
        """A token in ``Authorization: Bearer`` (or Basic, any user, for feed readers)."""
        header = request.headers.get("Authorization", "")
        scheme, _, value = header.partition(" ")
        if scheme.lower() == "bearer":
            return self.token_matches(value.strip())
        if scheme.lower() == "basic":
            try:
                decoded = base64.b64decode(value.strip(), validate=True).decode()
            except ValueError:
                return False
            return self.token_matches(decoded.partition(":")[2])
        return False

    # Sessions and CSRF

    def _sign(self, *parts: str) -> str:
        return hmac.new(self.key, "\0".join(parts).encode(), hashlib.sha256).hexdigest()

    def session_value(self, session: Session) -> str:
        issued = str(int(time.time()))
        flag = "1" if session.signed_in else "0"
        return ".".join((session.id, issued, flag, self._sign("session", session.id, issued, flag)))

    def read_session(self, request: web.Request) -> Session | None:
        value = request.cookies.get(SESSION_COOKIE, "")
        parts = value.split(".")
        if len(parts) != 4:
            return None
        session_id, issued, flag, signature = parts
        if not hmac.compare_digest(signature, self._sign("session", session_id, issued, flag)):
            return None
        if not issued.isdigit() or time.time() - int(issued) > SESSION_SECONDS:
            return None
        return Session(session_id, signed_in=flag == "1")

    def csrf_token(self, session: Session) -> str:
        return self._sign("csrf", session.id)

    def csrf_ok(self, session: Session | None, given: object) -> bool:
        if session is None or not isinstance(given, str) or not given:
            return False
        return hmac.compare_digest(given, self.csrf_token(session))


ACCESS = web.AppKey("access", Access)


def new_session(signed_in: bool) -> Session:
    return Session(secrets.token_urlsafe(18), signed_in)


def set_session_cookie(
    response: web.StreamResponse, access: Access, session: Session, request: web.Request
) -> None:
    response.set_cookie(
        SESSION_COOKIE,
        access.session_value(session),
        max_age=SESSION_SECONDS,
        path="/",
        httponly=True,
        samesite="Strict",
        secure=request.secure,
    )


@web.middleware
async def security_headers(request: web.Request, handler: Handler) -> web.StreamResponse:
    """Every answer, errors included, carries the security headers."""
    try:
        response = await handler(request)
    except web.HTTPException as error:
        error.headers.update(SECURITY_HEADERS)
        raise
    for name, value in SECURITY_HEADERS.items():
        response.headers.setdefault(name, value)
    return response
