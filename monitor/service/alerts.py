"""Alerts: a filtered page of the outbox, one alert's payload and attempts, retrying, and the
endpoints' state."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from monitor.deliver.webhook import configured_endpoints
from monitor.service.context import (
    BadInputError,
    NotFoundError,
    Page,
    Services,
    decode_cursor,
    encode_cursor,
    page_size,
)
from monitor.service.redact import shown
from monitor.store.outbox import AlertStatus
from monitor.text.redact import redact_url

ALERT_STATES = ("pending", "delivered", "dead")


@dataclass(frozen=True, slots=True)
class AlertView:
    id: str
    kind: str
    topic: str
    endpoint: str
    status: str
    attempts: int
    title: str
    url: str
    created_at: datetime
    next_attempt_at: datetime | None  # None once delivered or dead
    last_error: str


@dataclass(frozen=True, slots=True)
class AttemptView:
    number: int
    at: datetime
    status_code: int | None
    error: str
    duration_ms: int


@dataclass(frozen=True, slots=True)
class AlertDetailView:
    alert: AlertView
    payload: dict[str, Any]
    delivered_at: datetime | None
    attempts: tuple[AttemptView, ...]


@dataclass(frozen=True, slots=True)
class EndpointView:
    name: str
    url: str
    topics: tuple[str, ...]  # empty: every topic
    enabled: bool
    disabled_reason: str
    pending: int
    dead: int
    last_digest_at: datetime | None


def alert_view(alert: AlertStatus) -> AlertView:
    return AlertView(
        id=alert.id,
        kind=alert.kind,
        topic=alert.topic,
        endpoint=alert.endpoint,
        status=alert.status,
        attempts=alert.attempts,
        title=alert.title,
        url=shown(alert.url),
        created_at=alert.created_at,
        next_attempt_at=alert.next_attempt_at if alert.status == "pending" else None,
        last_error=shown(alert.last_error),
    )


def shown_json(value: Any) -> Any:
    """A JSON value with every string in it redacted."""
    if isinstance(value, str):
        return shown(value)
    if isinstance(value, dict):
        return {key: shown_json(item) for key, item in value.items()}
    if isinstance(value, list):
        return [shown_json(item) for item in value]
    return value


async def list_alerts(
    services: Services,
    *,
    cursor: str | None = None,
    limit: int | None = None,
    status: str | None = None,
    endpoint: str | None = None,
    topic: str | None = None,
    story_id: int | None = None,
) -> Page[AlertView]:
    size = page_size(limit, 50)
    if status is not None and status not in ALERT_STATES:
        raise BadInputError("status", f"expected one of {', '.join(ALERT_STATES)}")
    before = None
    if cursor:
        created_at, alert_id = decode_cursor(cursor, datetime, str)
        before = (created_at, alert_id)
    found = await services.views.alerts_page(
        before=before,  # type: ignore[arg-type]
        limit=size + 1,
        status=status,
        endpoint=endpoint or None,
        topic=topic or None,
        story_id=story_id,
    )
    more = len(found) > size
    found = found[:size]
    last = found[-1] if found else None
    return Page(
        items=[alert_view(alert) for alert in found],
        next_cursor=encode_cursor(last.created_at, last.id) if more and last else None,
    )


async def get_alert(services: Services, alert_id: str) -> AlertDetailView:
    detail = await services.store.alert_detail(alert_id)
    if detail is None:
        raise NotFoundError(f"no alert {alert_id}")
    return AlertDetailView(
        alert=alert_view(detail.alert),
        payload=shown_json(detail.payload),
        delivered_at=detail.delivered_at,
        attempts=tuple(
            AttemptView(a.number, a.at, a.status_code, shown(a.error), a.duration_ms)
            for a in detail.attempts
        ),
    )


async def retry_alerts(services: Services, *, ids: Sequence[str] = (), dead: bool = False) -> int:
    """Make alerts (by id, or every dead one) pending and due now; how many changed."""
    if not ids and not dead:
        raise BadInputError("ids", "name the alerts to retry, or ask for every dead one")
    return await services.store.retry_alerts(services.clock(), ids=ids, dead=dead)


async def retry_alert(services: Services, alert_id: str) -> AlertView:
    """Retry one alert that is dead or delivered; NotFoundError when there is no such alert."""
    await retry_alerts(services, ids=[alert_id])
    return (await get_alert(services, alert_id)).alert


async def list_endpoints(services: Services) -> list[EndpointView]:
    """Every configured endpoint, and any the database remembers, with its queue."""
    states = await services.store.endpoint_states()
    configured = {e.name: e for e in configured_endpoints(services.settings.all_webhooks())}
    views = []
    for name in sorted(set(states) | set(configured)):
        state, endpoint = states.get(name), configured.get(name)
        views.append(
            EndpointView(
                name=name,
                url=redact_url(endpoint.url) if endpoint and endpoint.url else "-",
                topics=tuple(sorted(endpoint.topics)) if endpoint else (),
                enabled=bool(state is None or not state.disabled_reason),
                disabled_reason=shown(state.disabled_reason if state else ""),
                pending=state.pending if state else 0,
                dead=state.dead if state else 0,
                last_digest_at=state.last_digest_at if state else None,
            )
        )
    return views
