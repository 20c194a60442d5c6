"""Articles in the database: is an entry known, and storing a new one in its story with its
matches and the outbox rows they send, all in one transaction.

Unique constraints, not in-memory checks, decide what is new, so a crash or a second worker can
never store an article or its alert twice.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable, Collection, Sequence
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import func, or_, select

from monitor.records import ARTICLE_MATCHED, STORY_UPDATED, Level, NewArticle, StoryInfo, TopicMatch
from monitor.store.base import Database, Repository
from monitor.store.stories import StoryNews, StoryRepository, story_info
from monitor.store.story_edits import unmerge
from monitor.store.tables import AlertRow, ArticleRow, MatchRow
from monitor.stories.settings import StorySettings

Recipients = Callable[[str], Sequence[str]]

_DEFAULT_STORIES = StorySettings()


def _reasons(news: StoryNews, takes_updates: bool) -> tuple[str, ...] | None:
    """What an endpoint gets for an article: an alert (no reasons), a ``story.updated`` event
    with its reasons, or nothing (None)."""
    if news.first_alert:
        return ("level",) if news.level_raised and takes_updates else ()
    if news.more_sources and takes_updates:
        return ("sources",)
    return None


@dataclass(frozen=True, slots=True)
class SplitOutcome:
    """Where ``split_article`` put an article: its story now, the story it left (None: it
    was alone in its story already, and nothing changed), and how many alerts it queued."""

    story_id: int
    left_story_id: int | None
    alerts: int


class ArticleRepository(Repository):
    """Articles and the alerts they send; every method is one short transaction."""

    def __init__(self, db: Database, stories: StoryRepository) -> None:
        super().__init__(db)
        self._stories = stories

    async def is_known(self, feed_id: int, guid: str, canonical_url: str) -> bool:
        """Whether an entry is already stored, by this feed's GUID or by its canonical URL."""
        query = (
            select(ArticleRow.id)
            .where(
                or_(
                    ArticleRow.canonical_url == canonical_url,
                    (ArticleRow.feed_id == feed_id) & (ArticleRow.guid == guid),
                )
            )
            .limit(1)
        )
        async with self._db.sessions() as session:
            return (await session.scalar(query)) is not None

    async def save_article(
        self,
        article: NewArticle,
        recipients: Recipients,
        now: datetime,
        *,
        stories: StorySettings = _DEFAULT_STORIES,
        story_updates: Collection[str] = (),
    ) -> int | None:
        """Store ``article`` in its story, with its matches and what they send: the first
        alert-level article of a story alerts every endpoint that takes its topic
        (``recipients(topic)`` names them); later ones only join the story, except that the
        endpoints named in ``story_updates`` get a ``story.updated`` event when the story
        gains ``stories.update_after_sources`` more outlets, or instead of the first alert when
        earlier articles of the story matched only at digest level.

        All in one transaction, and only if the article is new: returns the number of outbox
        rows created, or None when a unique constraint says the article was already stored.
        """
        at = min(article.published_at or now, now)
        async with self._db.writing() as session:
            await self._stories.lock_decisions(session)
            inserted = await session.execute(
                self._db.insert(ArticleRow)
                .values(
                    feed_id=article.feed_id,
                    guid=article.guid,
                    url=article.url,
                    canonical_url=article.canonical_url,
                    title=article.title,
                    summary=article.summary,
                    text=article.text,
                    language=article.language,
                    published_at=article.published_at,
                    created_at=now,
                    source_title=article.source_title or None,
                )
                .on_conflict_do_nothing()
                .returning(ArticleRow.id)
            )
            article_id = inserted.scalar()
            if article_id is None:
                return None
            placed = await self._stories.place(
                session, article_id, article.title, article.fingerprint, at, now, stories
            )
            story = placed.story
            queued = 0
            for match in article.matches:
                session.add(
                    MatchRow(
                        article_id=article_id,
                        topic=match.topic,
                        level=match.level or "digest",
                        score=match.score,
                        terms=list(match.terms),
                        rules=list(match.rules),
                        created_at=now,
                    )
                )
                news = await self._stories.story_news(
                    session,
                    story.id,
                    match,
                    len(story.sources),
                    now,
                    stories.update_after_sources,
                    new_story=placed.new_story,
                )
                for endpoint in recipients(match.topic):
                    reasons = _reasons(news, endpoint in story_updates)
                    if reasons is None:
                        continue
                    session.add(_alert(article_id, story, match, endpoint, now, reasons=reasons))
                    queued += 1
            return queued

    async def split_article(
        self,
        article_id: int,
        recipients: Recipients,
        now: datetime,
        *,
        stories: StorySettings = _DEFAULT_STORIES,
    ) -> SplitOutcome | None:
        """Take an article out of its story into a story of its own: an operator's correction
        of two events grouped as one. The article then alerts as the first article of a new
        story does, and the story it left is counted again; an article that came with a merged
        story goes back with that story instead. None when there is no such article."""
        async with self._db.writing() as session:
            await self._stories.lock_decisions(session)
            article = await session.get(ArticleRow, article_id)
            if article is None:
                return None
            left = article.story_id
            # An article an operator's merge brought here goes back with its story: the undo.
            if (back := await unmerge(session, article)) is not None:
                return SplitOutcome(story_id=back.id, left_story_id=left, alerts=0)
            if left is not None:
                size = await session.scalar(
                    select(func.count(ArticleRow.id)).where(ArticleRow.story_id == left)
                )
                if size == 1:
                    return SplitOutcome(story_id=left, left_story_id=None, alerts=0)
            story = await self._stories.split_off(session, article, now)
            info = await story_info(session, story.id)
            matches = await session.scalars(
                select(MatchRow).where(MatchRow.article_id == article_id).order_by(MatchRow.id)
            )
            already = set(
                (
                    await session.execute(
                        select(AlertRow.endpoint, AlertRow.topic).where(
                            AlertRow.article_id == article_id, AlertRow.kind == ARTICLE_MATCHED
                        )
                    )
                ).all()
            )
            queued = 0
            for row in matches:
                match = TopicMatch(row.topic, _level(row.level), row.score)
                news = await self._stories.story_news(
                    session,
                    story.id,
                    match,
                    len(info.sources),
                    now,
                    stories.update_after_sources,
                    new_story=True,
                )
                if not news.first_alert:
                    continue
                for endpoint in recipients(match.topic):
                    if (endpoint, match.topic) in already:  # it alerted when it came
                        continue
                    session.add(_alert(article_id, info, match, endpoint, now))
                    queued += 1
            return SplitOutcome(story_id=story.id, left_story_id=left, alerts=queued)

    async def match_levels(self, canonical_url: str) -> list[tuple[str, list[str]]]:
        """The level and the fired rules of each topic an article matched."""
        query = (
            select(MatchRow.level, MatchRow.rules)
            .join(ArticleRow, ArticleRow.id == MatchRow.article_id)
            .where(ArticleRow.canonical_url == canonical_url)
            .order_by(MatchRow.topic)
        )
        async with self._db.sessions() as session:
            return [(level, rules) for level, rules in (await session.execute(query)).all()]

    async def count_articles(self) -> int:
        async with self._db.sessions() as session:
            return int(await session.scalar(select(func.count(ArticleRow.id))) or 0)


def _alert(
    article_id: int,
    story: StoryInfo,
    match: TopicMatch,
    endpoint: str,
    now: datetime,
    *,
    reasons: tuple[str, ...] = (),
) -> AlertRow:
    """The outbox row of an alert (no ``reasons``) or a ``story.updated`` event, due now;
    its payload is rendered from the article, its match and its story when it is sent."""
    return AlertRow(
        id=str(uuid.uuid4()),
        kind=STORY_UPDATED if reasons else ARTICLE_MATCHED,
        article_id=article_id,
        story_id=story.id,
        topic=match.topic,
        endpoint=endpoint,
        status="pending",
        reasons=list(reasons) or None,
        attempts=0,
        next_attempt_at=now,
        created_at=now,
    )


def _level(stored: str) -> Level:
    return "alert" if stored == "alert" else "digest"
