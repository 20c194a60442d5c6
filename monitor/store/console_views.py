"""The queries the console, the API and the Atom feeds need beyond ``Store``'s: pages of feeds,
alerts and stories read by keyset (so page 500 costs what page 1 costs), the alerts of a story,
the alerted stories of a topic, and adding many feeds in one transaction (an OPML import).

A repository of the store (``store.console``): it shares the engine and, on SQLite, the queue
of writers.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import func, select, tuple_
from sqlalchemy.ext.asyncio import AsyncSession

from monitor.store.base import Repository
from monitor.store.feeds import new_feed_row
from monitor.store.outbox import AlertStatus
from monitor.store.tables import (
    AlertRow,
    ArticleRow,
    FeedRow,
    StoryRow,
    StoryTopicRow,
)
from monitor.store.views import story_levels

# How a feed stands, as the console filters feeds: the same words as /metrics, with "gone".
FEED_STATES = ("ok", "failing", "gone", "stopped", "disabled")
IMPORT_CHUNK = 500  # feeds inserted per statement in an import


@dataclass(frozen=True, slots=True)
class FeedLine:
    """A feed as a page of feeds lists it."""

    id: int
    url: str
    name: str | None
    title: str
    origin: str
    enabled: bool
    next_check_at: datetime
    last_checked_at: datetime | None
    last_success_at: datetime | None
    error_count: int
    last_error: str | None
    last_status: int | None
    disabled_reason: str | None
    poll_interval_seconds: float | None
    fetch_url: str | None

    @property
    def state(self) -> str:
        if self.disabled_reason:
            return "gone" if self.last_status == 410 else "stopped"
        if not self.enabled:
            return "disabled"
        return "failing" if self.error_count else "ok"


@dataclass(frozen=True, slots=True)
class StoryLine:
    """A story as a page of stories lists it, with its outlets' names."""

    id: int
    title: str
    article_count: int
    source_count: int
    first_seen_at: datetime
    last_seen_at: datetime
    levels: tuple[tuple[str, str, datetime | None], ...]  # (topic, level, alerted at)


@dataclass(frozen=True, slots=True)
class AlertedStory:
    """A story that alerted on a topic, as an Atom entry tells it."""

    id: int
    topic: str
    title: str
    summary: str
    url: str
    alerted_at: datetime
    updated_at: datetime
    outlets: tuple[str, ...]


class ConsoleViews(Repository):
    """Read queries for pages, and the bulk insert of an import."""

    # Feeds

    async def feeds_page(
        self, *, after_id: int = 0, limit: int = 50, state: str | None = None
    ) -> list[FeedLine]:
        """Feeds by id after ``after_id``; ``state`` keeps only the feeds in that state."""
        query = select(FeedRow).where(FeedRow.id > after_id).order_by(FeedRow.id).limit(limit)
        if state is not None:
            query = query.where(*_feed_state_condition(state))
        async with self._db.sessions() as session:
            rows = (await session.scalars(query)).all()
        return [_feed_line(row) for row in rows]

    async def feed(self, feed_id: int) -> FeedLine | None:
        async with self._db.sessions() as session:
            row = await session.get(FeedRow, feed_id)
        return _feed_line(row) if row else None

    async def known_feed_ids(self, urls: Sequence[str]) -> dict[str, int]:
        """The id of each of ``urls`` that is stored already."""
        found: dict[str, int] = {}
        async with self._db.sessions() as session:
            for start in range(0, len(urls), IMPORT_CHUNK):
                chunk = urls[start : start + IMPORT_CHUNK]
                rows = await session.execute(
                    select(FeedRow.url, FeedRow.id).where(FeedRow.url.in_(chunk))
                )
                found.update({str(url): int(feed_id) for url, feed_id in rows.all()})
        return found

    async def all_feeds(self) -> list[tuple[str, str | None, str]]:
        """Every feed's URL, name and title, for an export."""
        # On a connection, not a session: for 10,000 rows the ORM's row loading costs as much
        # as the query itself, and columns need none of it.
        async with self._db.engine.connect() as connection:
            rows = await connection.execute(
                select(FeedRow.url, FeedRow.name, FeedRow.title).order_by(FeedRow.id)
            )
            return [(url, name, title) for url, name, title in rows.all()]

    async def add_feeds(
        self,
        feeds: Sequence[tuple[str, str | None]],
        now: datetime,
        progress: Callable[[int], None] = lambda _done: None,
    ) -> int:
        """Add feeds (URL, name) in ONE transaction: all of them or, on any error, none.
        Feeds already stored are left as they are. Returns how many were added."""
        added = 0
        async with self._db.writing() as session:
            for start in range(0, len(feeds), IMPORT_CHUNK):
                chunk = feeds[start : start + IMPORT_CHUNK]
                result = await session.execute(
                    self._db.insert(FeedRow)
                    .values([new_feed_row(url, name, "import", now) for url, name in chunk])
                    .on_conflict_do_nothing()
                    .returning(FeedRow.id)
                )
                added += len(result.all())
                progress(start + len(chunk))
        return added

    # Alerts

    async def alerts_page(
        self,
        *,
        before: tuple[datetime, str] | None = None,
        limit: int = 50,
        status: str | None = None,
        endpoint: str | None = None,
        topic: str | None = None,
        story_id: int | None = None,
    ) -> list[AlertStatus]:
        """Alerts newest first, older than the ``before`` (created at, id) key."""
        # The columns a listing shows, not the payloads: a page must not read 20,000 of them.
        query = (
            select(
                AlertRow.id,
                AlertRow.kind,
                AlertRow.topic,
                AlertRow.endpoint,
                AlertRow.status,
                AlertRow.attempts,
                func.coalesce(ArticleRow.title, StoryRow.title, AlertRow.kind),
                func.coalesce(ArticleRow.url, ""),
                AlertRow.created_at,
                AlertRow.next_attempt_at,
                AlertRow.last_error,
            )
            .outerjoin(ArticleRow, ArticleRow.id == AlertRow.article_id)
            .outerjoin(StoryRow, StoryRow.id == AlertRow.story_id)
            .order_by(AlertRow.created_at.desc(), AlertRow.id.desc())
            .limit(limit)
        )
        if before is not None:
            query = query.where(tuple_(AlertRow.created_at, AlertRow.id) < tuple_(*before))
        for column, wanted in (
            (AlertRow.status, status),
            (AlertRow.endpoint, endpoint),
            (AlertRow.topic, topic),
            (AlertRow.story_id, story_id),
        ):
            if wanted is not None:
                query = query.where(column == wanted)
        async with self._db.sessions() as session:
            rows = (await session.execute(query)).all()
        return [AlertStatus(*row) for row in rows]

    # Stories

    async def stories_page(
        self, *, before: tuple[datetime, int] | None = None, limit: int = 30
    ) -> list[StoryLine]:
        """Stories by last sighting, newest first, older than the ``before`` key."""
        query = (
            select(StoryRow).order_by(StoryRow.last_seen_at.desc(), StoryRow.id.desc()).limit(limit)
        )
        if before is not None:
            query = query.where(tuple_(StoryRow.last_seen_at, StoryRow.id) < tuple_(*before))
        async with self._db.sessions() as session:
            stories = (await session.scalars(query)).all()
            levels = await story_levels(session, [story.id for story in stories])
        return [
            StoryLine(
                id=story.id,
                title=story.title,
                article_count=story.article_count,
                source_count=story.source_count,
                first_seen_at=story.first_seen_at,
                last_seen_at=story.last_seen_at,
                levels=levels.get(story.id, ()),
            )
            for story in stories
        ]

    async def stories_since(self, since: datetime) -> int:
        """How many stories were first seen since ``since``."""
        async with self._db.sessions() as session:
            found = await session.scalar(
                select(func.count(StoryRow.id)).where(StoryRow.first_seen_at >= since)
            )
        return int(found or 0)

    async def alerted_stories(self, topic: str | None, limit: int = 50) -> list[AlertedStory]:
        """The stories that alerted most recently (on ``topic``, or on any)."""
        query = (
            select(StoryTopicRow, StoryRow)
            .join(StoryRow, StoryRow.id == StoryTopicRow.story_id)
            .where(StoryTopicRow.alerted_at.is_not(None))
            .order_by(StoryTopicRow.alerted_at.desc(), StoryRow.id.desc())
            .limit(limit)
        )
        if topic is not None:
            query = query.where(StoryTopicRow.topic == topic)
        async with self._db.sessions() as session:
            rows = (await session.execute(query)).all()
            ids = [story.id for _, story in rows]
            firsts = await _first_articles(session, ids)
            outlets = await _outlets(session, ids)
        found = []
        for state, story in rows:
            first = firsts.get(story.id)
            alerted_at = state.alerted_at or story.last_seen_at
            found.append(
                AlertedStory(
                    id=story.id,
                    topic=state.topic,
                    title=story.title,
                    summary=first[1] if first else "",
                    url=first[0] if first else "",
                    alerted_at=alerted_at,
                    updated_at=max(story.last_seen_at, alerted_at),
                    outlets=tuple(outlets.get(story.id, ())),
                )
            )
        return found


def _feed_state_condition(state: str) -> tuple[Any, ...]:
    if state == "gone":
        return (FeedRow.disabled_reason.is_not(None), FeedRow.last_status == 410)
    if state == "stopped":
        return (
            FeedRow.disabled_reason.is_not(None),
            func.coalesce(FeedRow.last_status, 0) != 410,
        )
    if state == "disabled":
        return (FeedRow.disabled_reason.is_(None), FeedRow.enabled.is_(False))
    running = (FeedRow.disabled_reason.is_(None), FeedRow.enabled.is_(True))
    if state == "failing":
        return (*running, FeedRow.error_count > 0)
    return (*running, FeedRow.error_count == 0)


def _feed_line(row: FeedRow) -> FeedLine:
    return FeedLine(
        id=row.id,
        url=row.url,
        name=row.name,
        title=row.title,
        origin=row.origin,
        enabled=row.enabled,
        next_check_at=row.next_check_at,
        last_checked_at=row.last_checked_at,
        last_success_at=row.last_success_at,
        error_count=row.error_count,
        last_error=row.last_error,
        last_status=row.last_status,
        disabled_reason=row.disabled_reason,
        poll_interval_seconds=row.poll_interval_seconds,
        fetch_url=row.fetch_url,
    )


async def _first_articles(
    session: AsyncSession, story_ids: list[int]
) -> dict[int, tuple[str, str]]:
    """Each story's first article: its address and its summary."""
    first = (
        select(func.min(ArticleRow.id))
        .where(ArticleRow.story_id.in_(story_ids))
        .group_by(ArticleRow.story_id)
    )
    rows = await session.execute(
        select(ArticleRow.story_id, ArticleRow.url, ArticleRow.summary).where(
            ArticleRow.id.in_(first)
        )
    )
    return {story_id: (url, summary) for story_id, url, summary in rows.all() if story_id}


async def _outlets(session: AsyncSession, story_ids: list[int]) -> dict[int, list[str]]:
    """Each story's outlets by name, in the order they carried it."""
    rows = await session.execute(
        select(
            ArticleRow.story_id,
            func.coalesce(
                ArticleRow.source_title, func.nullif(FeedRow.title, ""), FeedRow.name, FeedRow.url
            ),
        )
        .outerjoin(FeedRow, FeedRow.id == ArticleRow.feed_id)
        .where(ArticleRow.story_id.in_(story_ids))
        .order_by(ArticleRow.id)
    )
    outlets: dict[int, list[str]] = {}
    for story_id, name in rows.all():
        if story_id is None:
            continue
        names = outlets.setdefault(story_id, [])
        if name and name not in names:
            names.append(name)
    return outlets
