"""The HTTP API under ``/api/v1``: JSON in and out, the same operations as the console and the
CLI (``monitor.service``), pages by cursor, refusals as problem details."""

from __future__ import annotations

import json
from collections.abc import Awaitable, Callable
from typing import TypeVar

from aiohttp import web
from pydantic import BaseModel, ConfigDict, Field, ValidationError

from monitor.app.web.answers import INVALID_INPUT, json_answer, problem, service_problem
from monitor.app.web.openapi import openapi_document
from monitor.service import alerts, feeds, opml, overview, stories, topics
from monitor.service.context import BadInputError, ServiceError, Services

PREFIX = "/api/v1"
SERVICES = web.AppKey("services", Services)
M = TypeVar("M", bound=BaseModel)
Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]


class _Body(BaseModel):
    model_config = ConfigDict(extra="forbid")


class FeedIn(_Body):
    """A feed to add."""

    url: str = Field(max_length=2048)
    name: str | None = Field(default=None, max_length=200)


class RetryIn(_Body):
    """Alerts to retry: by id, or every dead one."""

    ids: list[str] = Field(default_factory=list, max_length=1000)
    dead: bool = False


class ClassifyIn(_Body):
    """A headline, and optionally its text, to score against a topic."""

    title: str = Field(default="", max_length=1000)
    text: str = Field(default="", max_length=100_000)


def services_of(request: web.Request) -> Services:
    return request.app[SERVICES]


def query_int(request: web.Request, name: str) -> int | None:
    raw = request.query.get(name)
    if raw is None or raw == "":
        return None
    try:
        return int(raw)
    except ValueError:
        raise BadInputError(name, f"expected a whole number, got {raw!r}") from None


def path_int(request: web.Request, name: str) -> int:
    try:
        return int(request.match_info[name])
    except ValueError:
        raise BadInputError(
            name, f"expected a whole number, got {request.match_info[name]!r}"
        ) from None


async def body_of(request: web.Request, model: type[M]) -> M:
    """The JSON body as ``model``, or BadInputError naming the first wrong field."""
    try:
        data = await request.json()
    except (json.JSONDecodeError, UnicodeDecodeError):
        raise BadInputError("body", "the body is not JSON") from None
    try:
        return model.model_validate(data)
    except ValidationError as error:
        first = error.errors(include_url=False)[0]
        field = ".".join(str(part) for part in first["loc"]) or "body"
        raise BadInputError(field, first["msg"]) from None


def _answering(handler: Handler) -> Handler:
    async def answer(request: web.Request) -> web.StreamResponse:
        try:
            return await handler(request)
        except ServiceError as error:
            return service_problem(request, error)

    return answer


async def get_overview(request: web.Request) -> web.Response:
    return json_answer(await overview.overview(services_of(request)))


async def get_feeds(request: web.Request) -> web.Response:
    page = await feeds.list_feeds(
        services_of(request),
        cursor=request.query.get("cursor"),
        limit=query_int(request, "limit"),
        state=request.query.get("state") or None,
    )
    return json_answer(page)


async def post_feed(request: web.Request) -> web.Response:
    given = await body_of(request, FeedIn)
    change = await feeds.add_feed(services_of(request), given.url, given.name)
    location = f"{PREFIX}/feeds/{change.feed.id}"
    return json_answer(change, status=201 if change.added else 200, headers={"Location": location})


async def get_feed(request: web.Request) -> web.Response:
    return json_answer(await feeds.get_feed(services_of(request), path_int(request, "id")))


async def delete_feed(request: web.Request) -> web.Response:
    await feeds.remove_feed(services_of(request), path_int(request, "id"))
    return web.Response(status=204)


async def enable_feed(request: web.Request) -> web.Response:
    return json_answer(await feeds.enable_feed(services_of(request), path_int(request, "id")))


async def import_feeds(request: web.Request) -> web.Response:
    data = await request.read()
    skip = request.query.get("skip_invalid", "").lower() in ("1", "true", "yes")
    report = await opml.import_opml(services_of(request), data, skip_invalid=skip)
    return json_answer(report)


async def export_feeds(request: web.Request) -> web.Response:
    """Every feed as an OPML download: the API's and the console's export both answer with it."""
    body = await opml.export_opml(services_of(request))
    return web.Response(
        body=body,
        content_type="text/x-opml",
        headers={"Content-Disposition": 'attachment; filename="monitor-feeds.opml"'},
    )


async def get_stories(request: web.Request) -> web.Response:
    page = await stories.list_stories(
        services_of(request), cursor=request.query.get("cursor"), limit=query_int(request, "limit")
    )
    return json_answer(page)


async def get_story(request: web.Request) -> web.Response:
    return json_answer(await stories.get_story(services_of(request), path_int(request, "id")))


async def split_article(request: web.Request) -> web.Response:
    return json_answer(await stories.split_article(services_of(request), path_int(request, "id")))


async def get_alerts(request: web.Request) -> web.Response:
    page = await alerts.list_alerts(
        services_of(request),
        cursor=request.query.get("cursor"),
        limit=query_int(request, "limit"),
        status=request.query.get("status") or None,
        endpoint=request.query.get("endpoint") or None,
        topic=request.query.get("topic") or None,
        story_id=query_int(request, "story"),
    )
    return json_answer(page)


async def get_alert(request: web.Request) -> web.Response:
    return json_answer(await alerts.get_alert(services_of(request), request.match_info["id"]))


async def retry_alert(request: web.Request) -> web.Response:
    return json_answer(await alerts.retry_alert(services_of(request), request.match_info["id"]))


async def retry_alerts(request: web.Request) -> web.Response:
    given = await body_of(request, RetryIn)
    count = await alerts.retry_alerts(services_of(request), ids=given.ids, dead=given.dead)
    return json_answer({"retried": count})


async def get_endpoints(request: web.Request) -> web.Response:
    return json_answer(await alerts.list_endpoints(services_of(request)))


async def get_topics(request: web.Request) -> web.Response:
    return json_answer(topics.list_topics(services_of(request)))


async def get_topic(request: web.Request) -> web.Response:
    return json_answer(topics.get_topic(services_of(request), request.match_info["name"]))


async def classify(request: web.Request) -> web.Response:
    given = await body_of(request, ClassifyIn)
    name = request.match_info["name"]
    return json_answer(await topics.classify(services_of(request), given.title, given.text, name))


async def get_openapi(request: web.Request) -> web.Response:
    return json_answer(openapi_document(request.app[SERVICES].settings.http.read_only))


async def not_found(request: web.Request) -> web.Response:
    return problem(request, 404, "Not found", f"no API resource at {request.path}")


ROUTES: tuple[tuple[str, str, Handler], ...] = (
    ("GET", "/openapi.json", get_openapi),
    ("GET", "/overview", get_overview),
    ("GET", "/feeds", get_feeds),
    ("POST", "/feeds", post_feed),
    ("GET", "/feeds/export", export_feeds),
    ("POST", "/feeds/import", import_feeds),
    ("GET", "/feeds/{id}", get_feed),
    ("DELETE", "/feeds/{id}", delete_feed),
    ("POST", "/feeds/{id}/enable", enable_feed),
    ("GET", "/stories", get_stories),
    ("GET", "/stories/{id}", get_story),
    ("POST", "/articles/{id}/split", split_article),
    ("GET", "/alerts", get_alerts),
    ("POST", "/alerts/retry", retry_alerts),
    ("GET", "/alerts/{id}", get_alert),
    ("POST", "/alerts/{id}/retry", retry_alert),
    ("GET", "/endpoints", get_endpoints),
    ("GET", "/topics", get_topics),
    ("GET", "/topics/{name}", get_topic),
    ("POST", "/topics/{name}/classify", classify),
)
# What a state-changing request must send as its body, so that no cross-site form can send it
# (a form can send only urlencoded, multipart or text/plain without a CORS preflight).
BODY_TYPES = {"/feeds/import": ("text/x-opml", "application/xml", "text/xml")}
JSON_TYPES = ("application/json",)


def add_api_routes(app: web.Application, services: Services) -> None:
    app[SERVICES] = services
    for method, path, handler in ROUTES:
        app.router.add_route(method, PREFIX + path, _answering(handler))
    app.router.add_route("*", PREFIX + "/{tail:.*}", not_found)


def body_type_problem(request: web.Request) -> web.Response | None:
    """A 415 problem when a state-changing API request does not send the type it must."""
    path = request.path.removeprefix(PREFIX)
    wanted = BODY_TYPES.get(path, JSON_TYPES)
    if request.content_type in wanted:
        return None
    return problem(
        request,
        415,
        "Unsupported media type",
        f"send the body as {' or '.join(wanted)}",
        kind=INVALID_INPUT,
        errors=[{"field": "Content-Type", "detail": f"expected {' or '.join(wanted)}"}],
    )
