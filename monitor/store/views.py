"""What an operator asks about stories: the recent ones, and one story's articles with the
decision that put each of them there (``monitor stories list`` and ``show``)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from monitor.store.base import Repository
from monitor.store.tables import ArticleRow, FeedRow, FingerprintRow, StoryRow, StoryTopicRow


@dataclass(frozen=True, slots=True)
class StoryStatus:
    """A story as ``monitor stories list`` shows it."""

    id: int
    title: str
    article_count: int
    source_count: int
    first_seen_at: datetime
    last_seen_at: datetime
    levels: tuple[tuple[str, str, datetime | None], ...]  # (topic, level, alerted at)


@dataclass(frozen=True, slots=True)
class StoryArticle:
    """An article of a story and the grouping decision made for it."""

    id: int
    title: str
    url: str
    source: str
    at: datetime | None
    reason: str | None  # new, duplicate, event, split; None: stored without a fingerprint
    similarity: float | None
    closest_article_id: int | None
    shared: tuple[str, ...]


class StoryViews(Repository):
    """Read-only story queries, each in its own short transaction."""

    async def list_stories(self, limit: int = 30) -> list[StoryStatus]:
        """The stories seen most recently."""
        async with self._db.sessions() as session:
            stories = (
                await session.scalars(
                    select(StoryRow)
                    .order_by(StoryRow.last_seen_at.desc(), StoryRow.id.desc())
                    .limit(limit)
                )
            ).all()
            levels = await self._levels(session, [story.id for story in stories])
        return [_status(story, levels.get(story.id, ())) for story in stories]

    async def story_detail(
        self, story_id: int
    ) -> tuple[StoryStatus, tuple[StoryArticle, ...]] | None:
        """A story and each of its articles with the decision that put it there."""
        async with self._db.sessions() as session:
            story = await session.get(StoryRow, story_id)
            if story is None:
                return None
            levels = await self._levels(session, [story_id])
            rows = await session.execute(
                select(
                    ArticleRow,
                    FingerprintRow,
                    func.coalesce(ArticleRow.source_title, FeedRow.title),
                    FeedRow.name,
                    FeedRow.url,
                )
                .outerjoin(FingerprintRow, FingerprintRow.article_id == ArticleRow.id)
                .outerjoin(FeedRow, FeedRow.id == ArticleRow.feed_id)
                .where(ArticleRow.story_id == story_id)
                .order_by(ArticleRow.id)
            )
            articles = tuple(
                StoryArticle(
                    id=article.id,
                    title=article.title,
                    url=article.url,
                    source=feed_title or feed_name or feed_url or "",
                    at=print_.at if print_ else article.published_at,
                    reason=print_.reason if print_ else None,
                    similarity=print_.similarity if print_ else None,
                    closest_article_id=print_.closest_article_id if print_ else None,
                    shared=tuple(print_.shared) if print_ else (),
                )
                for article, print_, feed_title, feed_name, feed_url in rows.all()
            )
        return _status(story, levels.get(story_id, ())), articles

    async def _levels(
        self, session: AsyncSession, story_ids: list[int]
    ) -> dict[int, tuple[tuple[str, str, datetime | None], ...]]:
        rows = await session.scalars(
            select(StoryTopicRow)
            .where(StoryTopicRow.story_id.in_(story_ids))
            .order_by(StoryTopicRow.topic)
        )
        levels: dict[int, list[tuple[str, str, datetime | None]]] = {}
        for row in rows:
            levels.setdefault(row.story_id, []).append((row.topic, row.level, row.alerted_at))
        return {story_id: tuple(found) for story_id, found in levels.items()}


def _status(story: StoryRow, levels: tuple[tuple[str, str, datetime | None], ...]) -> StoryStatus:
    return StoryStatus(
        id=story.id,
        title=story.title,
        article_count=story.article_count,
        source_count=story.source_count,
        first_seen_at=story.first_seen_at,
        last_seen_at=story.last_seen_at,
        levels=levels,
    )
