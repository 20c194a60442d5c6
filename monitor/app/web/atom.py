"""``/feeds/alerts.atom`` and ``/feeds/topics/{name}.atom``: alerts for any feed reader, with
the validators of a conditional GET (RFC 9110 §13) so an unchanged feed costs a 304."""

from __future__ import annotations

from email.utils import format_datetime, parsedate_to_datetime

from aiohttp import web

from monitor.app.web.answers import service_problem
from monitor.app.web.api import services_of
from monitor.service.atom import AtomDocument, alerts_feed
from monitor.service.context import ServiceError

ATOM_TYPE = "application/atom+xml"


async def all_alerts(request: web.Request) -> web.StreamResponse:
    return await _answer(request, None)


async def topic_alerts(request: web.Request) -> web.StreamResponse:
    return await _answer(request, request.match_info["name"])


async def _answer(request: web.Request, topic: str | None) -> web.StreamResponse:
    base = f"{request.scheme}://{request.host}"
    try:
        document = await alerts_feed(services_of(request), base, topic)
    except ServiceError as error:
        return service_problem(request, error)
    headers = {
        "ETag": document.etag,
        "Last-Modified": format_datetime(document.last_modified, usegmt=True),
        "Cache-Control": "no-cache",
    }
    if _unchanged(request, document):
        return web.Response(status=304, headers=headers)
    return web.Response(
        body=document.body, content_type=ATOM_TYPE, charset="utf-8", headers=headers
    )


def _unchanged(request: web.Request, document: AtomDocument) -> bool:
    """If-None-Match decides when sent; else If-Modified-Since (RFC 9110 §13.2.2)."""
    if_none_match = request.headers.get("If-None-Match")
    if if_none_match is not None:
        tags = {tag.strip().removeprefix("W/") for tag in if_none_match.split(",")}
        return "*" in tags or document.etag in tags
    since = request.headers.get("If-Modified-Since")
    if since:
        try:
            return document.last_modified <= parsedate_to_datetime(since)
        except (TypeError, ValueError):
            return False
    return False


def add_feed_routes(app: web.Application) -> None:
    app.router.add_get("/feeds/alerts.atom", all_alerts)
    app.router.add_get("/feeds/topics/{name}.atom", topic_alerts)
