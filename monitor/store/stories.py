"""Stories in the database: the story a new article joins, decided inside the transaction that
stores it, what that changes for its topics, and an operator's split of a wrong grouping.

The decision reads the articles stored near the new one and writes the result, so two articles
of one new story saved at the same moment must not both see "no story yet". On PostgreSQL a
transaction-level advisory lock makes story decisions take turns across every replica (which
stored articles a new one could join is known only after its lookup, so one lock covers them
all; it is held for one short transaction and released at commit). SQLite already has one
writer at a time, and the article's insert comes first, so the lookup reads the latest data.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import func, select, text, update
from sqlalchemy.ext.asyncio import AsyncSession

from monitor.parse.urls import outlet
from monitor.records import StoryFingerprint, StoryInfo, StorySource, TopicMatch
from monitor.store.base import Repository
from monitor.store.tables import (
    ArticleRow,
    FeedRow,
    FingerprintRow,
    StoryKeyRow,
    StoryRow,
    StoryTopicRow,
    TermCountRow,
)
from monitor.stories.fingerprint import index_keys
from monitor.stories.grouping import (
    Candidate,
    Decision,
    closest_articles,
    decide,
    lookup_keys,
    rarity,
)
from monitor.stories.settings import StorySettings

STORY_LOCK = 0x6D6F6E0001  # the advisory lock of story decisions ("mon", 1)
EVERY_ARTICLE = ""  # the term_counts row that counts every fingerprinted article


@dataclass(frozen=True, slots=True)
class Placement:
    """The story an article went to, why, and the story as alerts describe it now."""

    story: StoryInfo
    decision: Decision
    new_story: bool = False  # the article started it


@dataclass(frozen=True, slots=True)
class StoryNews:
    """What a new article changes for one topic of its story, and so who hears of it."""

    first_alert: bool = False  # the story's first alert-level article for the topic
    level_raised: bool = False  # ... after digest-level ones
    more_sources: bool = False  # an alerted story gained update_after_sources more outlets


class StoryRepository(Repository):
    """Story decisions. Each method runs inside the caller's transaction (``session``), the
    one that stores the article the decision is about."""

    async def lock_decisions(self, session: AsyncSession) -> None:
        if self._db.is_postgresql:
            await session.execute(text("SELECT pg_advisory_xact_lock(:key)"), {"key": STORY_LOCK})

    async def place(
        self,
        session: AsyncSession,
        article_id: int,
        title: str,
        print_: StoryFingerprint | None,
        at: datetime,
        now: datetime,
        settings: StorySettings,
    ) -> Placement:
        """Decide the article's story, file its fingerprint for later lookups, count it."""
        decision = Decision(story_id=None, reason="new")
        if print_ is not None:
            counts = await self._term_counts(session, [EVERY_ARTICLE, *print_.terms])
            total = counts.pop(EVERY_ARTICLE, 0)
            candidates = await self._candidates(
                session, print_, at, rarity(counts, total), settings
            )
            # The candidates' own terms weigh in their norms: count them too, or a term only a
            # candidate has would weigh as if no article had it.
            theirs = {term for found in candidates for term in found.fingerprint.terms}
            if unread := theirs - counts.keys():
                counts.update(await self._term_counts(session, unread))
            decision = decide(print_, at, candidates, rarity(counts, total), settings)
        found = None
        if decision.story_id is not None:
            found = await session.get(StoryRow, decision.story_id)
        story = found or StoryRow(title=title, first_seen_at=at, last_seen_at=at, created_at=now)
        if found is None:
            session.add(story)
            await session.flush()
        await session.execute(
            update(ArticleRow).where(ArticleRow.id == article_id).values(story_id=story.id)
        )
        if print_ is not None:
            await self._file(session, article_id, print_, at, decision)
        info = await story_info(session, story.id)
        _count(story, info)
        story.first_seen_at = min(story.first_seen_at, at)
        story.last_seen_at = max(story.last_seen_at, at)
        return Placement(story=info, decision=decision, new_story=found is None)

    async def split_off(
        self, session: AsyncSession, article: ArticleRow, now: datetime
    ) -> StoryRow:
        """Move ``article`` into a new story of its own, its decision marked "split"; the
        story it left is counted again (its waiting alerts are rendered from it when sent)."""
        print_ = await session.get(FingerprintRow, article.id)
        at = print_.at if print_ else min(article.published_at or now, now)
        story = StoryRow(title=article.title, first_seen_at=at, last_seen_at=at, created_at=now)
        session.add(story)
        await session.flush()
        left, article.story_id = article.story_id, story.id
        if print_ is not None:
            print_.reason = "split"
        await session.flush()
        if left is not None and (old := await session.get(StoryRow, left)) is not None:
            await recount(session, old)
        return story

    async def _term_counts(self, session: AsyncSession, terms: Iterable[str]) -> dict[str, int]:
        """How many stored articles have each of ``terms`` (absent: none has it)."""
        rows = await session.execute(
            select(TermCountRow.term, TermCountRow.articles).where(
                TermCountRow.term.in_(list(terms))
            )
        )
        return dict(rows.all())

    async def _candidates(
        self,
        session: AsyncSession,
        print_: StoryFingerprint,
        at: datetime,
        weight: Any,
        settings: StorySettings,
    ) -> list[Candidate]:
        keys = lookup_keys(print_, weight)
        window = timedelta(hours=settings.window_hours)
        postings = await session.execute(
            select(StoryKeyRow.key, StoryKeyRow.article_id).where(
                StoryKeyRow.key.in_(list(keys)),
                StoryKeyRow.at >= at - window,
                StoryKeyRow.at <= at + window,
            )
        )
        closest = closest_articles(postings.all(), keys, settings.max_candidates)
        if not closest:
            return []
        rows = await session.execute(
            select(FingerprintRow, ArticleRow.story_id)
            .join(ArticleRow, ArticleRow.id == FingerprintRow.article_id)
            .where(FingerprintRow.article_id.in_(closest))
        )
        return [
            Candidate(
                article_id=row.article_id,
                story_id=story_id,
                at=row.at,
                fingerprint=StoryFingerprint(
                    title_terms=frozenset(row.title_terms),
                    terms=frozenset(row.terms),
                    names=frozenset(row.names),
                    numbers=frozenset(row.numbers),
                    signature=row.signature,
                    actions=tuple(row.actions or ()),
                    figures=frozenset(row.figures or ()),
                    text_names=frozenset(row.text_names or ()),
                    renewed=bool(row.renewed),
                ),
            )
            for row, story_id in rows.all()
            if story_id is not None
        ]

    async def _file(
        self,
        session: AsyncSession,
        article_id: int,
        print_: StoryFingerprint,
        at: datetime,
        decision: Decision,
    ) -> None:
        """Keep the fingerprint and the decision, index the keys, count the terms."""
        session.add(
            FingerprintRow(
                article_id=article_id,
                at=at,
                title_terms=sorted(print_.title_terms),
                terms=sorted(print_.terms),
                names=sorted(print_.names),
                numbers=sorted(print_.numbers),
                signature=print_.signature,
                reason=decision.reason,
                similarity=decision.similarity,
                closest_article_id=decision.article_id,
                shared=list(decision.shared),
                actions=list(print_.actions),
                figures=sorted(print_.figures),
                text_names=sorted(print_.text_names),
                renewed=print_.renewed,
            )
        )
        await session.execute(
            self._db.insert(StoryKeyRow),
            [{"key": key, "at": at, "article_id": article_id} for key in index_keys(print_)],
        )
        # Sorted, so two writers upserting the same terms lock them in the same order.
        counted = sorted({EVERY_ARTICLE, *print_.terms})
        upsert = self._db.insert(TermCountRow).values([{"term": t, "articles": 1} for t in counted])
        await session.execute(
            upsert.on_conflict_do_update(
                index_elements=["term"], set_={"articles": TermCountRow.articles + 1}
            )
        )

    async def story_news(
        self,
        session: AsyncSession,
        story_id: int,
        match: TopicMatch,
        sources: int,
        now: datetime,
        update_after_sources: int,
        *,
        new_story: bool = False,
    ) -> StoryNews:
        """Record the article's level for its story and topic; say what it changes."""
        level = match.level or "digest"
        state = None if new_story else await session.get(StoryTopicRow, (story_id, match.topic))
        previous = state.level if state is not None else None
        if state is None:
            state = StoryTopicRow(
                story_id=story_id, topic=match.topic, level=level, notified_sources=0
            )
            session.add(state)
        elif level == "alert":
            state.level = "alert"
        if level == "alert" and state.alerted_at is None:
            state.alerted_at, state.notified_sources = now, sources
            return StoryNews(first_alert=True, level_raised=previous == "digest")
        if state.alerted_at is not None and sources - state.notified_sources >= (
            update_after_sources
        ):
            state.notified_sources = sources
            return StoryNews(more_sources=True)
        return StoryNews()


async def recount(session: AsyncSession, story: StoryRow) -> None:
    """A story's counts and first and last article times, from the articles it has now."""
    _count(story, await story_info(session, story.id))
    rows = await session.execute(
        select(FingerprintRow.at, ArticleRow.published_at, ArticleRow.created_at)
        .outerjoin(FingerprintRow, FingerprintRow.article_id == ArticleRow.id)
        .where(ArticleRow.story_id == story.id)
    )
    times = [filed or min(published or created, created) for filed, published, created in rows]
    if times:
        story.first_seen_at, story.last_seen_at = min(times), max(times)


def _count(story: StoryRow, info: StoryInfo) -> None:
    """The story's row keeps its article and outlet counts, as alerts describe it."""
    story.article_count, story.source_count = info.article_count, max(len(info.sources), 1)


def source_key(feed_id: int | None, url: str) -> str:
    """What counts as one source of a story: the outlet of the article's address, so two
    feeds of one site count once; the feed when the address names no outlet."""
    return outlet(url) or (f"feed {feed_id}" if feed_id is not None else url)


async def story_info(session: AsyncSession, story_id: int) -> StoryInfo:
    """A story as alerts describe it: its articles counted, its outlets, the first first."""
    rows = await session.execute(
        select(
            ArticleRow.feed_id,
            ArticleRow.title,
            ArticleRow.url,
            func.coalesce(ArticleRow.source_title, FeedRow.title),
            FeedRow.name,
            FeedRow.url,
        )
        .outerjoin(FeedRow, FeedRow.id == ArticleRow.feed_id)
        .where(ArticleRow.story_id == story_id)
        .order_by(ArticleRow.id)
    )
    sources: dict[object, StorySource] = {}
    count = 0
    for feed_id, title, url, feed_title, feed_name, feed_url in rows.all():
        count += 1
        key = source_key(feed_id, url)
        if key not in sources:
            name = feed_title or feed_name or feed_url or ""
            sources[key] = StorySource(name, feed_url or "", title, url)
    return StoryInfo(id=story_id, article_count=count, sources=tuple(sources.values()))
