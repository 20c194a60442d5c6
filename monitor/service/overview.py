"""The overview: how feeds, alerts, stories and endpoints stand, and what needs attention."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, time

from monitor.service.alerts import AlertView, EndpointView, list_alerts, list_endpoints
from monitor.service.context import Services
from monitor.service.feeds import FeedView, list_feeds

ATTENTION_ROWS = 5


@dataclass(frozen=True, slots=True)
class Overview:
    feeds: dict[str, int]  # by state: ok, failing, stopped, disabled
    articles: int
    alerts: dict[str, int]  # by status: pending, delivered, dead
    pending_due: int
    stories_today: int
    endpoints: tuple[EndpointView, ...]
    attention: tuple[str, ...]  # what to look at first, most urgent first
    failing_feeds: tuple[FeedView, ...]
    dead_alerts: tuple[AlertView, ...]
    now: datetime


async def overview(services: Services) -> Overview:
    now = services.clock()
    snapshot = await services.store.snapshot(now)
    midnight = datetime.combine(now.date(), time(), tzinfo=now.tzinfo)
    endpoints = tuple(await list_endpoints(services))
    failing = await list_feeds(services, state="failing", limit=ATTENTION_ROWS)
    dead = await list_alerts(services, status="dead", limit=ATTENTION_ROWS)
    feeds = {
        state: snapshot.feeds.get(state, 0) for state in ("ok", "failing", "stopped", "disabled")
    }
    alerts = {status: snapshot.alerts.get(status, 0) for status in ("pending", "delivered", "dead")}
    return Overview(
        feeds=feeds,
        articles=snapshot.articles,
        alerts=alerts,
        pending_due=snapshot.pending_due,
        stories_today=await services.views.stories_since(midnight),
        endpoints=endpoints,
        attention=_attention(feeds, alerts, endpoints),
        failing_feeds=tuple(failing.items),
        dead_alerts=tuple(dead.items),
        now=now,
    )


def _attention(
    feeds: dict[str, int], alerts: dict[str, int], endpoints: tuple[EndpointView, ...]
) -> tuple[str, ...]:
    """What an operator should look at, the ones that lose alerts first."""
    notes = [
        f"endpoint {e.name} is disabled: {e.disabled_reason}" for e in endpoints if not e.enabled
    ]
    if alerts["dead"]:
        notes.append(f"{alerts['dead']} alert(s) could not be delivered: retry them once fixed")
    if feeds["failing"]:
        notes.append(f"{feeds['failing']} feed(s) are failing")
    if feeds["stopped"]:
        notes.append(f"{feeds['stopped']} feed(s) asked to stop or are gone")
    if not any(feeds.values()):
        notes.append("no feeds yet: add one or import an OPML file")
    return tuple(notes)
