"""The console's pages and forms: overview, stories, alerts, feeds, topics, and signing in.
Every form posts back here and is answered with a redirect to the page that shows the result
(or with that page), so the console works without JavaScript."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from urllib.parse import urlencode

from aiohttp import web
from multidict import MultiDictProxy

from monitor.app.web.api import export_feeds, path_int, query_int, services_of
from monitor.app.web.render import page
from monitor.app.web.security import (
    ACCESS,
    SESSION_COOKIE,
    Access,
    new_session,
    set_session_cookie,
)
from monitor.service import alerts, feeds, opml, overview, stories, topics
from monitor.service.context import ServiceError

Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]


def _answering(handler: Handler) -> Handler:
    async def answer(request: web.Request) -> web.StreamResponse:
        try:
            return await handler(request)
        except ServiceError as error:
            return page(
                request, "refused.html", status=error.status, message=str(error), title=error.title
            )

    return answer


async def _form(request: web.Request) -> MultiDictProxy[str | bytes | bytearray | web.FileField]:
    return await request.post()  # read (and cached) by the gate, which checked its CSRF token


def _access(request: web.Request) -> Access:
    return request.app[ACCESS]


async def show_overview(request: web.Request) -> web.Response:
    return page(request, "overview.html", overview=await overview.overview(services_of(request)))


async def show_login(request: web.Request) -> web.Response:
    return page(request, "login.html", next=_next(request.query.get("next")), failed=False)


async def sign_in(request: web.Request) -> web.StreamResponse:
    form = await _form(request)
    target = _next(str(form.get("next") or "/"))
    if not _access(request).token_matches(str(form.get("token") or "")):
        return page(request, "login.html", status=401, next=target, failed=True)
    response = web.HTTPSeeOther(target)
    # A new session id on signing in, so a session planted before it is worth nothing.
    set_session_cookie(response, _access(request), new_session(signed_in=True), request)
    raise response


async def sign_out(request: web.Request) -> web.StreamResponse:
    response = web.HTTPSeeOther("/login" if _access(request).needs_token else "/")
    response.del_cookie(SESSION_COOKIE, path="/")
    raise response


def _next(target: str | None) -> str:
    """A local path to go to after signing in; anything else goes to the overview."""
    if not target or not target.startswith("/") or target.startswith("//") or "\\" in target:
        return "/"
    return target


async def list_feeds(request: web.Request) -> web.Response:
    state = request.query.get("state") or None
    listed = await feeds.list_feeds(
        services_of(request),
        cursor=request.query.get("cursor"),
        limit=query_int(request, "limit"),
        state=state,
    )
    more = _more(request, listed.next_cursor)
    return page(request, "feeds.html", feeds=listed.items, state=state, more=more)


async def show_feed(request: web.Request) -> web.Response:
    feed = await feeds.get_feed(services_of(request), path_int(request, "id"))
    return page(request, "feed.html", feed=feed)


async def add_feed(request: web.Request) -> web.StreamResponse:
    form = await _form(request)
    change = await feeds.add_feed(
        services_of(request), str(form.get("url") or ""), str(form.get("name") or "")
    )
    raise web.HTTPSeeOther(f"/feeds/{change.feed.id}")


async def remove_feed(request: web.Request) -> web.StreamResponse:
    removed = await feeds.remove_feed(services_of(request), path_int(request, "id"))
    raise web.HTTPSeeOther("/feeds?" + urlencode({"removed": removed.url}))


async def enable_feed(request: web.Request) -> web.StreamResponse:
    change = await feeds.enable_feed(services_of(request), path_int(request, "id"))
    raise web.HTTPSeeOther(f"/feeds/{change.feed.id}")


async def import_feeds(request: web.Request) -> web.Response:
    form = await _form(request)
    upload = form.get("file")
    if not isinstance(upload, web.FileField):
        return page(request, "refused.html", status=422, message="Choose an OPML file to import.")
    data = upload.file.read()
    skip = form.get("skip_invalid") == "on"
    try:
        report = await opml.import_opml(services_of(request), data, skip_invalid=skip)
    except opml.ImportRefusedError as refused:
        return page(request, "imported.html", status=422, report=refused.report)
    return page(request, "imported.html", report=report)


async def list_stories(request: web.Request) -> web.Response:
    listed = await stories.list_stories(
        services_of(request), cursor=request.query.get("cursor"), limit=query_int(request, "limit")
    )
    more = _more(request, listed.next_cursor)
    return page(request, "stories.html", stories=listed.items, more=more)


async def show_story(request: web.Request) -> web.Response:
    detail = await stories.get_story(services_of(request), path_int(request, "id"))
    split = query_int(request, "split")
    return page(request, "story.html", detail=detail, split=split)


async def split_article(request: web.Request) -> web.StreamResponse:
    outcome = await stories.split_article(services_of(request), path_int(request, "id"))
    query = urlencode({"split": outcome.article_id, "left": outcome.left_story_id or ""})
    raise web.HTTPSeeOther(f"/stories/{outcome.story_id}?{query}")


async def list_alerts(request: web.Request) -> web.Response:
    chosen = {key: request.query.get(key) or None for key in ("status", "endpoint", "topic")}
    listed = await alerts.list_alerts(
        services_of(request),
        cursor=request.query.get("cursor"),
        limit=query_int(request, "limit"),
        **chosen,  # type: ignore[arg-type]
    )
    services = services_of(request)
    return page(
        request,
        "alerts.html",
        alerts=listed.items,
        chosen=chosen,
        more=_more(request, listed.next_cursor),
        topics=[topic.name for topic in services.settings.topics],
        endpoints=[endpoint.name for endpoint in await alerts.list_endpoints(services)],
        retried=query_int(request, "retried"),
    )


async def show_alert(request: web.Request) -> web.Response:
    detail = await alerts.get_alert(services_of(request), request.match_info["id"])
    return page(request, "alert.html", detail=detail, retried="retried" in request.query)


async def retry_alert(request: web.Request) -> web.StreamResponse:
    retried = await alerts.retry_alert(services_of(request), request.match_info["id"])
    raise web.HTTPSeeOther(f"/alerts/{retried.id}?retried=1")


async def retry_dead(request: web.Request) -> web.StreamResponse:
    count = await alerts.retry_alerts(services_of(request), dead=True)
    raise web.HTTPSeeOther(f"/alerts?status=pending&retried={count}")


async def show_topics(request: web.Request) -> web.Response:
    services = services_of(request)
    return page(request, "topics.html", topics=topics.list_topics(services), result=None, given={})


async def try_topic(request: web.Request) -> web.Response:
    services = services_of(request)
    form = await _form(request)
    given = {key: str(form.get(key) or "") for key in ("title", "text", "topic")}
    result = await topics.classify(services, given["title"], given["text"], given["topic"] or None)
    return page(
        request, "topics.html", topics=topics.list_topics(services), result=result, given=given
    )


def _more(request: web.Request, cursor: str | None) -> str | None:
    """The link to the next page, keeping the filters."""
    if cursor is None:
        return None
    query = {key: value for key, value in request.query.items() if key != "cursor" and value}
    return f"{request.path}?{urlencode({**query, 'cursor': cursor})}"


ROUTES: tuple[tuple[str, str, Handler], ...] = (
    ("GET", "/", show_overview),
    ("GET", "/login", show_login),
    ("POST", "/login", sign_in),
    ("POST", "/logout", sign_out),
    ("GET", "/feeds", list_feeds),
    ("POST", "/feeds", add_feed),
    ("GET", "/feeds/export.opml", export_feeds),
    ("POST", "/feeds/import", import_feeds),
    ("GET", r"/feeds/{id:\d+}", show_feed),
    ("POST", r"/feeds/{id:\d+}/remove", remove_feed),
    ("POST", r"/feeds/{id:\d+}/enable", enable_feed),
    ("GET", "/stories", list_stories),
    ("GET", r"/stories/{id:\d+}", show_story),
    ("POST", r"/articles/{id:\d+}/split", split_article),
    ("GET", "/alerts", list_alerts),
    ("POST", "/alerts/retry-dead", retry_dead),
    ("GET", "/alerts/{id}", show_alert),
    ("POST", "/alerts/{id}/retry", retry_alert),
    ("GET", "/topics", show_topics),
    ("POST", "/topics/try", try_topic),
)


def add_console_routes(app: web.Application) -> None:
    for method, path, handler in ROUTES:
        app.router.add_route(method, path, _answering(handler))
