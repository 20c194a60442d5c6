"""What an operator asks about stories: the recent ones, and one story's articles with the
decision that put each of them there (``monitor stories list`` and ``show``)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import func, or_, select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import aliased

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
    merged_into: int | None = None  # an operator merged it into that story


@dataclass(frozen=True, slots=True)
class StoryLink:
    """A likely same-event link between two stories: an article that started a story of its
    own, marked as likely related to a stored article of another story."""

    article_id: int  # the article marked
    article_title: str
    story_id: int  # the story it is in
    related_article_id: int
    related_story_id: int  # the story of the article it resembles, as it is now
    related_title: str  # that story's first headline
    similarity: float
    shared: tuple[str, ...]


@dataclass(frozen=True, slots=True)
class StoryArticle:
    """An article of a story and the grouping decision made for it."""

    id: int
    title: str
    url: str
    source: str
    at: datetime | None
    # new, duplicate, event, related, split; None: stored without a fingerprint
    reason: str | None
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
                    .where(StoryRow.merged_into.is_(None))
                    .order_by(StoryRow.last_seen_at.desc(), StoryRow.id.desc())
                    .limit(limit)
                )
            ).all()
            levels = await story_levels(session, [story.id for story in stories])
        return [_status(story, levels.get(story.id, ())) for story in stories]

    async def story_detail(
        self, story_id: int
    ) -> tuple[StoryStatus, tuple[StoryArticle, ...]] | None:
        """A story and each of its articles with the decision that put it there."""
        async with self._db.sessions() as session:
            story = await session.get(StoryRow, story_id)
            if story is None:
                return None
            levels = await story_levels(session, [story_id])
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

    async def story_links(self, story_id: int) -> list[StoryLink]:
        """The likely same-event links from and to a story's articles."""
        marked = aliased(ArticleRow)
        related = aliased(ArticleRow)
        async with self._db.sessions() as session:
            rows = await session.execute(
                select(FingerprintRow, marked, related.story_id, StoryRow.title)
                .join(marked, marked.id == FingerprintRow.article_id)
                .join(related, related.id == FingerprintRow.closest_article_id)
                .join(StoryRow, StoryRow.id == related.story_id)
                .where(
                    FingerprintRow.reason == "related",
                    or_(marked.story_id == story_id, related.story_id == story_id),
                )
                .order_by(FingerprintRow.at)
            )
            return [
                StoryLink(
                    article_id=article.id,
                    article_title=article.title,
                    story_id=article.story_id,
                    related_article_id=print_.closest_article_id,
                    related_story_id=related_story,
                    related_title=related_title,
                    similarity=print_.similarity,
                    shared=tuple(print_.shared),
                )
                for print_, article, related_story, related_title in rows.all()
                if article.story_id is not None
                and print_.closest_article_id is not None
                and related_story is not None
            ]


async def story_levels(
    session: AsyncSession, story_ids: list[int]
) -> dict[int, tuple[tuple[str, str, datetime | None], ...]]:
    """Each story's level per topic and when it alerted, topics in order."""
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
        merged_into=story.merged_into,
    )
