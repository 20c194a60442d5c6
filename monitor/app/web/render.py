"""Pages from the Jinja2 templates shipped in this package, escaped by default."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from aiohttp import web
from jinja2 import Environment, PackageLoader, select_autoescape

ENVIRONMENT = Environment(
    loader=PackageLoader("monitor.app.web", "templates"),
    autoescape=select_autoescape(default=True),
    trim_blocks=True,
    lstrip_blocks=True,
)


def when(at: datetime | None) -> str:
    """A moment as UTC text, to the minute; "-" for none."""
    if at is None:
        return "-"
    return at.astimezone(UTC).strftime("%Y-%m-%d %H:%M UTC")


def seconds(value: float | None) -> str:
    if value is None:
        return "-"
    if value >= 3600:
        return f"{value / 3600:.1f} h"
    return f"{value / 60:.0f} min" if value >= 60 else f"{value:.0f} s"


ENVIRONMENT.filters["when"] = when
ENVIRONMENT.filters["seconds"] = seconds


def page(request: web.Request, template: str, status: int = 200, **values: Any) -> web.Response:
    """Render ``template`` with what every page needs: the session's CSRF token, whether
    actions are shown, the current path."""
    context = dict(request.get("page_context", {}))
    context.update(values)
    context["path"] = request.path
    html = ENVIRONMENT.get_template(template).render(**context)
    return web.Response(text=html, status=status, content_type="text/html", charset="utf-8")
