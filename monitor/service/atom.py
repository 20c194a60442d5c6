"""Alerts as Atom feeds: one entry per story that alerted (on every topic, or on one), with
its summary and outlets, and the validators a feed reader's conditional GET compares."""

from __future__ import annotations

import hashlib
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime

from feedgen.feed import FeedGenerator

from monitor.service.context import NotFoundError, Services
from monitor.service.redact import shown
from monitor.store.console_views import AlertedStory

ENTRIES = 50
_EPOCH = datetime(2000, 1, 1, tzinfo=UTC)


@dataclass(frozen=True, slots=True)
class AtomDocument:
    body: bytes
    etag: str  # a strong validator: the hash of the body
    last_modified: datetime


async def alerts_feed(services: Services, base_url: str, topic: str | None = None) -> AtomDocument:
    """The Atom feed of the stories that alerted most recently; ``base_url`` is where the
    console is reached, for the entries' links."""
    if topic is not None and all(t.name != topic for t in services.settings.topics):
        raise NotFoundError(f"no topic {topic!r}")
    stories = await services.views.alerted_stories(topic, limit=ENTRIES * 2)
    unique: dict[int, AlertedStory] = {}
    for story in stories:  # a story that alerted on two topics is one entry
        unique.setdefault(story.id, story)
    path = f"/feeds/topics/{topic}.atom" if topic else "/feeds/alerts.atom"
    title = f"monitor: {topic}" if topic else "monitor: alerts"
    return atom_document(list(unique.values())[:ENTRIES], base_url.rstrip("/"), path, title)


def atom_document(
    stories: Sequence[AlertedStory], base: str, path: str, title: str
) -> AtomDocument:
    """An Atom document of ``stories``, newest first; the same stories give the same bytes."""
    updated = max((story.updated_at for story in stories), default=_EPOCH)
    feed = FeedGenerator()
    feed.id(f"{base}{path}")
    feed.title(title)
    feed.subtitle("One entry per story that alerted, with its outlets.")
    feed.author({"name": "monitor"})
    feed.link(href=f"{base}{path}", rel="self", type="application/atom+xml")
    feed.link(href=f"{base}/stories", rel="alternate", type="text/html")
    feed.updated(updated)
    feed.generator("monitor")
    for story in reversed(stories):  # feedgen puts the last added first
        entry = feed.add_entry()
        entry.id(f"{base}/stories/{story.id}")
        entry.title(story.title or f"story {story.id}")
        entry.updated(story.updated_at)
        entry.published(story.alerted_at)
        entry.category(term=story.topic)
        if story.url:
            entry.link(href=shown(story.url), rel="alternate", type="text/html")
        entry.link(href=f"{base}/stories/{story.id}", rel="related", type="text/html")
        outlets = ", ".join(shown(name) for name in story.outlets) or "-"
        summary = shown(story.summary).strip()
        entry.summary(f"{summary}\n\nOutlets: {outlets}" if summary else f"Outlets: {outlets}")
    body = feed.atom_str(pretty=True)
    return AtomDocument(
        body=body,
        etag='"' + hashlib.sha256(body).hexdigest()[:32] + '"',
        last_modified=updated.replace(microsecond=0),
    )
