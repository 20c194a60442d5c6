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
from typing import Any

from sqlalchemy import func, insert, or_, select
from sqlalchemy.ext.asyncio import AsyncSession

from monitor.records import ARTICLE_MATCHED, STORY_UPDATED, Level, NewArticle, TopicMatch
from monitor.store.base import Database, Repository, table_of
from monitor.store.stories import (
    Joining,
    StoryNews,
    StoryRepository,
    news_of,
    source_key,
    story_info,
)
from monitor.store.story_edits import unmerge
from monitor.store.tables import AlertRow, ArticleRow, MatchRow
from monitor.stories.batch import Arrival
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
        """``save_articles`` of one article."""
        [queued] = await self.save_articles(
            [article], recipients, now, stories=stories, story_updates=story_updates
        )
        return queued

    async def save_articles(
        self,
        articles: Sequence[NewArticle],
        recipients: Recipients,
        now: datetime,
        *,
        stories: StorySettings = _DEFAULT_STORIES,
        story_updates: Collection[str] = (),
    ) -> list[int | None]:
        """Store ``articles``, in order, each in its story with its matches and what they
        send: the first alert-level article of a story alerts every endpoint that takes its
        topic (``recipients(topic)`` names them); later ones only join the story, except that
        the endpoints named in ``story_updates`` get a ``story.updated`` event when the story
        gains ``stories.update_after_sources`` more outlets, or instead of the first alert when
        earlier articles of the story matched only at digest level.

        All in one transaction, and each article only if it is new: returns, for each, the
        number of outbox rows created, or None when a unique constraint says it was already
        stored (by an earlier article of the batch too). The batch decides its stories as the
        same articles saved one by one would.
        """
        if not articles:
            return []
        async with self._db.writing() as session:
            ids = await self._insert(session, articles, now)
            fresh = [(a, i) for a, i in zip(articles, ids, strict=True) if i is not None]
            if not fresh:
                return [None] * len(articles)
            joining = [
                Joining(
                    Arrival(i, a.fingerprint, min(a.published_at or now, now)),
                    a.title,
                    source_key(a.feed_id, a.url),
                )
                for a, i in fresh
            ]
            # What does not depend on the decisions is written before their turn: the story
            # decisions take turns (across replicas too), and the turn stays short.
            await self._stories.index(session, joining)
            matched = [_match(i, match, now) for a, i in fresh for match in a.matches]
            if matched:
                await session.execute(insert(table_of(MatchRow)), matched)
            await self._stories.lock_decisions(session)
            placed = await self._stories.place_all(session, joining, now, stories)
            stored = (p.story_id for p in placed if not p.new_story)
            states = await self._stories.topic_states(session, stored)
            queued: dict[int, int] = {}
            alerts: list[dict[str, Any]] = []
            for (article, article_id), placement in zip(fresh, placed, strict=True):
                queued[article_id] = 0
                for match in article.matches:
                    news = news_of(
                        session,
                        states,
                        placement.story_id,
                        match,
                        placement.sources,
                        now,
                        stories.update_after_sources,
                    )
                    for endpoint in recipients(match.topic):
                        reasons = _reasons(news, endpoint in story_updates)
                        if reasons is None:
                            continue
                        alerts.append(
                            _alert(article_id, placement.story_id, match, endpoint, now, reasons)
                        )
                        queued[article_id] += 1
            if alerts:
                await session.execute(insert(table_of(AlertRow)), alerts)
            return [None if i is None else queued[i] for i in ids]

    async def _insert(
        self, session: AsyncSession, articles: Sequence[NewArticle], now: datetime
    ) -> list[int | None]:
        """Insert the articles no stored one (nor an earlier one of the batch) has the
        address or the feed's GUID of, in one statement; each one's id, or None."""
        inserted = await session.execute(
            self._db.insert(ArticleRow)
            .on_conflict_do_nothing()
            .returning(
                ArticleRow.id, ArticleRow.canonical_url, ArticleRow.feed_id, ArticleRow.guid
            ),
            [
                {
                    "feed_id": a.feed_id,
                    "guid": a.guid,
                    "url": a.url,
                    "canonical_url": a.canonical_url,
                    "title": a.title,
                    "summary": a.summary,
                    "text": a.text,
                    "language": a.language,
                    "published_at": a.published_at,
                    "created_at": now,
                    "source_title": a.source_title or None,
                    "story_id": None,
                }
                for a in articles
            ],
        )
        kept = {(url, feed, guid): i for i, url, feed, guid in inserted.all()}
        # Of two articles of the batch alike in all three, the database kept the first.
        return [kept.pop((a.canonical_url, a.feed_id, a.guid), None) for a in articles]

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
                    session.add(AlertRow(**_alert(article_id, story.id, match, endpoint, now)))
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


def _match(article_id: int, match: TopicMatch, now: datetime) -> dict[str, Any]:
    return {
        "article_id": article_id,
        "topic": match.topic,
        "level": match.level or "digest",
        "score": match.score,
        "terms": list(match.terms),
        "rules": list(match.rules),
        "created_at": now,
    }


def _alert(
    article_id: int,
    story_id: int,
    match: TopicMatch,
    endpoint: str,
    now: datetime,
    reasons: tuple[str, ...] = (),
) -> dict[str, Any]:
    """The outbox row of an alert (no ``reasons``) or a ``story.updated`` event, due now;
    its payload is rendered from the article, its match and its story when it is sent."""
    return {
        "id": str(uuid.uuid4()),
        "kind": STORY_UPDATED if reasons else ARTICLE_MATCHED,
        "article_id": article_id,
        "story_id": story_id,
        "topic": match.topic,
        "endpoint": endpoint,
        "status": "pending",
        "reasons": list(reasons) or None,
        "attempts": 0,
        "next_attempt_at": now,
        "created_at": now,
    }


def _level(stored: str) -> Level:
    return "alert" if stored == "alert" else "digest"
