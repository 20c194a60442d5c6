"""JSON answers and RFC 9457 problem details, shared by the API and the Atom feeds."""

from __future__ import annotations

import dataclasses
import json
from datetime import datetime
from typing import Any

from aiohttp import web

from monitor.service.context import BadInputError, Page, ServiceError

PROBLEM_TYPE = "application/problem+json"
# Problem types this API defines; the rest are "about:blank" (the HTTP status says it all).
INVALID_INPUT = "urn:monitor:problem:invalid-input"


def jsonable(value: Any) -> Any:
    """Records, pages and datetimes as JSON values."""
    if isinstance(value, datetime):
        return value.isoformat().replace("+00:00", "Z")
    if isinstance(value, Page):
        return {"items": jsonable(list(value.items)), "next_cursor": value.next_cursor}
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        return {f.name: jsonable(getattr(value, f.name)) for f in dataclasses.fields(value)}
    if isinstance(value, dict):
        return {str(key): jsonable(item) for key, item in value.items()}
    if isinstance(value, (list, tuple, set, frozenset)):
        return [jsonable(item) for item in value]
    return value


def json_answer(
    value: Any, status: int = 200, headers: dict[str, str] | None = None
) -> web.Response:
    body = json.dumps(jsonable(value), ensure_ascii=False, indent=1)
    return web.Response(
        text=body, status=status, content_type="application/json", headers=headers or {}
    )


def problem(
    request: web.Request,
    status: int,
    title: str,
    detail: str,
    *,
    kind: str = "about:blank",
    errors: list[dict[str, str]] | None = None,
    headers: dict[str, str] | None = None,
    **extra: Any,
) -> web.Response:
    """A problem details answer (RFC 9457)."""
    body: dict[str, Any] = {
        "type": kind,
        "title": title,
        "status": status,
        "detail": detail,
        "instance": request.path,
    }
    if errors:
        body["errors"] = errors
    body.update(jsonable(extra))
    return web.Response(
        text=json.dumps(body, ensure_ascii=False),
        status=status,
        content_type=PROBLEM_TYPE,
        headers=headers or {},
    )


def service_problem(request: web.Request, error: ServiceError) -> web.Response:
    """The problem answer of an operation's refusal."""
    extra: dict[str, Any] = {}
    report = getattr(error, "report", None)
    if report is not None:
        extra["report"] = report
    if isinstance(error, BadInputError):
        return problem(
            request,
            error.status,
            error.title,
            str(error),
            kind=INVALID_INPUT,
            errors=[{"field": error.field, "detail": str(error)}],
            **extra,
        )
    return problem(request, error.status, error.title, str(error), **extra)
