"""The OpenAPI 3.1 document of ``/api/v1``, built from the same request models the API reads."""

from __future__ import annotations

from functools import cache
from typing import Any

from monitor import __version__

PAGE_PARAMETERS = [
    {
        "name": "cursor",
        "in": "query",
        "schema": {"type": "string"},
        "description": "next_cursor of the previous page",
    },
    {"name": "limit", "in": "query", "schema": {"type": "integer", "minimum": 1, "maximum": 200}},
]
PROBLEM = {"$ref": "#/components/responses/Problem"}
ID = {"name": "id", "in": "path", "required": True, "schema": {"type": "integer"}}
ALERT_ID = {"name": "id", "in": "path", "required": True, "schema": {"type": "string"}}
TOPIC = {"name": "name", "in": "path", "required": True, "schema": {"type": "string"}}


def _operation(
    summary: str,
    *,
    parameters: list[dict[str, Any]] | None = None,
    body: str | None = None,
    answers: str = "200",
    media: str = "application/json",
) -> dict[str, Any]:
    operation: dict[str, Any] = {
        "summary": summary,
        "parameters": parameters or [],
        "responses": {
            answers: {"description": "done", "content": {media: {}}}
            if answers != "204"
            else {"description": "done"},
            "401": PROBLEM,
            "403": PROBLEM,
            "404": PROBLEM,
            "415": PROBLEM,
            "422": PROBLEM,
        },
    }
    if body == "opml":
        operation["requestBody"] = {
            "required": True,
            "content": {"text/x-opml": {"schema": {"type": "string"}}},
        }
    elif body:
        operation["requestBody"] = {
            "required": True,
            "content": {"application/json": {"schema": {"$ref": f"#/components/schemas/{body}"}}},
        }
    return operation


@cache
def openapi_document(read_only: bool) -> dict[str, Any]:
    from monitor.app.web.api import ClassifyIn, FeedIn, RetryIn

    paths: dict[str, dict[str, Any]] = {
        "/overview": {"get": _operation("How feeds, alerts, stories and endpoints stand")},
        "/feeds": {
            "get": _operation(
                "A page of feeds",
                parameters=[
                    *PAGE_PARAMETERS,
                    {
                        "name": "state",
                        "in": "query",
                        "schema": {"enum": ["ok", "failing", "gone", "stopped", "disabled"]},
                    },
                ],
            ),
            "post": _operation(
                "Add a feed (201), or enable one already there (200)", body="FeedIn", answers="201"
            ),
        },
        "/feeds/export": {"get": _operation("Every feed as OPML", media="text/x-opml")},
        "/feeds/import": {
            "post": _operation(
                "Import an OPML file: all of it or nothing (422 with a report when it has bad "
                "URLs, unless skip_invalid)",
                parameters=[{"name": "skip_invalid", "in": "query", "schema": {"type": "boolean"}}],
                body="opml",
            )
        },
        "/feeds/{id}": {
            "get": _operation("One feed", parameters=[ID]),
            "delete": _operation(
                "Remove a feed (its articles stay)", parameters=[ID], answers="204"
            ),
        },
        "/feeds/{id}/enable": {"post": _operation("Check a stopped feed again", parameters=[ID])},
        "/stories": {"get": _operation("A page of recent stories", parameters=PAGE_PARAMETERS)},
        "/stories/{id}": {
            "get": _operation("A story: its articles, why each joined, its alerts", parameters=[ID])
        },
        "/articles/{id}/split": {
            "post": _operation(
                "Take an article out of its story into one of its own", parameters=[ID]
            )
        },
        "/alerts": {
            "get": _operation(
                "A page of alerts, newest first",
                parameters=[
                    *PAGE_PARAMETERS,
                    {
                        "name": "status",
                        "in": "query",
                        "schema": {"enum": ["pending", "delivered", "dead"]},
                    },
                    {"name": "endpoint", "in": "query", "schema": {"type": "string"}},
                    {"name": "topic", "in": "query", "schema": {"type": "string"}},
                    {"name": "story", "in": "query", "schema": {"type": "integer"}},
                ],
            )
        },
        "/alerts/retry": {
            "post": _operation("Retry alerts by id, or every dead one", body="RetryIn")
        },
        "/alerts/{id}": {
            "get": _operation("An alert, its payload and attempts", parameters=[ALERT_ID])
        },
        "/alerts/{id}/retry": {"post": _operation("Retry one alert", parameters=[ALERT_ID])},
        "/endpoints": {"get": _operation("The webhook endpoints and their queues")},
        "/topics": {"get": _operation("The topics, their rules in plain words")},
        "/topics/{name}": {"get": _operation("One topic", parameters=[TOPIC])},
        "/topics/{name}/classify": {
            "post": _operation(
                "Score a headline and text against a topic", parameters=[TOPIC], body="ClassifyIn"
            )
        },
    }
    if read_only:  # a read-only server changes nothing; classifying changes nothing either
        for path, operations in paths.items():
            for method in [m for m in operations if m in ("post", "delete")]:
                if not path.endswith("/classify"):
                    del operations[method]
        paths = {path: operations for path, operations in paths.items() if operations}
    return {
        "openapi": "3.1.0",
        "info": {
            "title": "monitor API",
            "version": __version__,
            "description": "Feeds, stories, alerts, endpoints and topics of a monitor daemon. "
            "With a token set, send it as `Authorization: Bearer TOKEN`. Errors are "
            "problem details (RFC 9457). Lists page by cursor. Every POST sends "
            "`Content-Type: application/json` (`{}` when it has no input; the OPML import sends "
            "`text/x-opml`), which no cross-site form can send.",
        },
        "servers": [{"url": "/api/v1"}],
        "security": [{"bearer": []}],
        "paths": paths,
        "components": {
            "securitySchemes": {"bearer": {"type": "http", "scheme": "bearer"}},
            "schemas": {
                "FeedIn": FeedIn.model_json_schema(),
                "RetryIn": RetryIn.model_json_schema(),
                "ClassifyIn": ClassifyIn.model_json_schema(),
                "Problem": {
                    "type": "object",
                    "required": ["type", "title", "status"],
                    "properties": {
                        "type": {"type": "string"},
                        "title": {"type": "string"},
                        "status": {"type": "integer"},
                        "detail": {"type": "string"},
                        "instance": {"type": "string"},
                        "errors": {"type": "array", "items": {"type": "object"}},
                    },
                },
            },
            "responses": {
                "Problem": {
                    "description": "a problem",
                    "content": {
                        "application/problem+json": {
                            "schema": {"$ref": "#/components/schemas/Problem"}
                        }
                    },
                }
            },
        },
    }
