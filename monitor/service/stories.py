"""Stories: a page of recent ones, one story with why each article joined it and the alerts
it sent, and splitting an article off into a story of its own."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING

from monitor.service.alerts import AlertView, list_alerts
from monitor.service.context import (
    NotFoundError,
    Page,
    Services,
    decode_cursor,
    encode_cursor,
    page_size,
)
from monitor.service.redact import shown

if TYPE_CHECKING:
    pass

_REASONS = {
    "new": "started the story",
    "duplicate": "a copy of",
    "event": "the same event as",
    "related": "started the story; likely the same event as",
    "split": "split off by an operator from the story of",
}


@dataclass(frozen=True, slots=True)
class Level:
    topic: str
    level: str
    alerted_at: datetime | None


@dataclass(frozen=True, slots=True)
class StoryView:
    id: int
    title: str
    article_count: int
    source_count: int
    first_seen_at: datetime
    last_seen_at: datetime
    levels: tuple[Level, ...]


@dataclass(frozen=True, slots=True)
class StoryArticleView:
    """An article of a story and the decision that put it there, in words and in numbers."""

    id: int
    title: str
    url: str
    source: str
    at: datetime | None
    reason: str | None
    why: str
    similarity: float | None
    closest_article_id: int | None
    shared_terms: tuple[str, ...]


@dataclass(frozen=True, slots=True)
class StoryDetailView:
    story: StoryView
    articles: tuple[StoryArticleView, ...]
    alerts: tuple[AlertView, ...]


@dataclass(frozen=True, slots=True)
class SplitView:
    """Where a split put an article: its new story, the story it left (None: it was alone
    already, nothing changed), and how many alerts were queued."""

    article_id: int
    story_id: int
    left_story_id: int | None
    alerts: int


def _levels(levels: tuple[tuple[str, str, datetime | None], ...]) -> tuple[Level, ...]:
    return tuple(Level(topic, level, at) for topic, level, at in levels)


def why(reason: str | None, closest: int | None) -> str:
    """A grouping decision in words: "the same event as 12", "started the story (closest 9)"."""
    if reason is None:
        return "stored before stories"
    if reason == "new":
        return _REASONS["new"] + (f" (closest {closest})" if closest else "")
    return f"{_REASONS.get(reason, reason)} {closest}"


async def list_stories(
    services: Services, *, cursor: str | None = None, limit: int | None = None
) -> Page[StoryView]:
    size = page_size(limit, 30)
    before = decode_cursor(cursor, datetime, int) if cursor else None
    found = await services.views.stories_page(before=before, limit=size + 1)  # type: ignore[arg-type]
    more = len(found) > size
    found = found[:size]
    return Page(
        items=[
            StoryView(
                s.id,
                s.title,
                s.article_count,
                s.source_count,
                s.first_seen_at,
                s.last_seen_at,
                _levels(s.levels),
            )
            for s in found
        ],
        next_cursor=encode_cursor(found[-1].last_seen_at, found[-1].id) if more else None,
    )


async def get_story(services: Services, story_id: int) -> StoryDetailView:
    found = await services.store.story_detail(story_id)
    if found is None:
        raise NotFoundError(f"no story {story_id}")
    story, articles = found
    alerts = await list_alerts(services, story_id=story_id, limit=100)
    return StoryDetailView(
        story=StoryView(
            story.id,
            story.title,
            story.article_count,
            story.source_count,
            story.first_seen_at,
            story.last_seen_at,
            _levels(story.levels),
        ),
        articles=tuple(
            StoryArticleView(
                id=a.id,
                title=a.title,
                url=shown(a.url),
                source=shown(a.source),
                at=a.at,
                reason=a.reason,
                why=why(a.reason, a.closest_article_id),
                similarity=a.similarity,
                closest_article_id=a.closest_article_id,
                shared_terms=a.shared,
            )
            for a in articles
        ),
        alerts=tuple(alerts.items),
    )


async def split_article(services: Services, article_id: int) -> SplitView:
    """Take an article out of its story into one of its own; it alerts as a new story would."""
    from monitor.deliver.webhook import configured_endpoints

    settings, store = services.settings, services.store
    endpoints = configured_endpoints(settings.all_webhooks())
    await store.ensure_endpoints([endpoint.name for endpoint in endpoints])
    now = services.clock()

    def recipients(topic: str) -> list[str]:
        return [endpoint.name for endpoint in endpoints if endpoint.wants(topic)]

    outcome = await store.split_article(article_id, recipients, now, stories=settings.stories)
    if outcome is None:
        raise NotFoundError(f"no article {article_id}")
    return SplitView(article_id, outcome.story_id, outcome.left_story_id, outcome.alerts)
