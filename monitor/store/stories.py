"""Stories in the database: the stories a batch of new articles join, decided inside the
transaction that stores them, what that changes for their topics, and an operator's split of a
wrong grouping.

The decision reads the articles stored near the new ones and writes the result, so two articles
of one new story saved at the same moment must not both see "no story yet". On PostgreSQL a
transaction-level advisory lock makes story decisions take turns across every replica (which
stored articles a new one could join is known only after its lookup, and every article of a
topic shares its common headline words, so finer locks would be taken by every batch alike);
it is taken after the articles are inserted and released at commit. SQLite already has one
writer at a time. A batch reads what it needs in a fixed number of queries and decides its
articles in order (``stories/batch.py``), as if each were stored before the next.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import func, insert, or_, select, text, update
from sqlalchemy.ext.asyncio import AsyncSession

from monitor.parse.urls import outlet
from monitor.records import StoryFingerprint, StoryInfo, StorySource, TopicMatch
from monitor.store.base import Repository, table_of
from monitor.store.tables import (
    ArticleRow,
    FeedRow,
    FingerprintRow,
    StoryKeyRow,
    StoryRow,
    StoryTopicRow,
    TermCountRow,
)
from monitor.stories.batch import Arrival, Placed, Posting, batch_terms, closest, lookups, place
from monitor.stories.fingerprint import index_keys
from monitor.stories.grouping import Candidate, Decision
from monitor.stories.settings import StorySettings

STORY_LOCK = 0x6D6F6E0001  # the advisory lock of story decisions ("mon", 1)
EVERY_ARTICLE = ""  # the term_counts row that counts every fingerprinted article


@dataclass(frozen=True, slots=True)
class Joining:
    """A new article as its story counts it: its arrival, headline and source (outlet)."""

    arrival: Arrival
    title: str
    source: str


@dataclass(frozen=True, slots=True)
class Placement:
    """The story an article went to, why, and how many outlets the story has with it."""

    story_id: int
    sources: int
    decision: Decision
    new_story: bool = False  # the article started it


@dataclass(frozen=True, slots=True)
class StoryNews:
    """What a new article changes for one topic of its story, and so who hears of it."""

    first_alert: bool = False  # the story's first alert-level article for the topic
    level_raised: bool = False  # ... after digest-level ones
    more_sources: bool = False  # an alerted story gained update_after_sources more outlets


@dataclass(slots=True)
class _Tally:
    """A story's articles and outlets while a batch joins it."""

    row: StoryRow
    articles: int
    sources: set[str]


class StoryRepository(Repository):
    """Story decisions. Each method runs inside the caller's transaction (``session``), the
    one that stores the articles the decision is about."""

    async def lock_decisions(self, session: AsyncSession) -> None:
        if self._db.is_postgresql:
            await session.execute(text("SELECT pg_advisory_xact_lock(:key)"), {"key": STORY_LOCK})

    async def index(self, session: AsyncSession, joining: Sequence[Joining]) -> None:
        """File the batch's articles under their lookup keys, before their decisions: the
        keys depend on the fingerprints only, and ``place_all`` leaves the batch's own
        postings to ``stories/batch.py``."""
        rows = [
            {"key": key, "at": j.arrival.at, "article_id": j.arrival.article_id}
            for j in joining
            if j.arrival.fingerprint is not None
            for key in index_keys(j.arrival.fingerprint)
        ]
        if rows:
            await session.execute(self._db.insert(table_of(StoryKeyRow)), rows)

    async def place_all(
        self,
        session: AsyncSession,
        joining: Sequence[Joining],
        now: datetime,
        settings: StorySettings,
    ) -> list[Placement]:
        """Decide the stories of a batch of inserted articles, in order; file their
        fingerprints for later lookups and count them. A fixed number of statements, whatever
        the size of the batch."""
        arrivals = [j.arrival for j in joining]
        counts = await self._term_counts(session, [EVERY_ARTICLE, *batch_terms(arrivals)])
        total = counts.pop(EVERY_ARTICLE, 0)
        keys = lookups(arrivals, counts, total)
        postings = await self._postings(session, arrivals, keys, settings)
        closest_ids = closest(arrivals, keys, postings, settings)
        ours = {arrival.article_id for arrival in arrivals}
        stored = await self._candidates(session, {i for ids in closest_ids for i in ids} - ours)
        # The candidates' own terms weigh in their norms: count them too, or a term only a
        # candidate has would weigh as if no article had it.
        theirs = {term for found in stored.values() for term in found.fingerprint.terms}
        if unread := theirs - counts.keys():
            counts.update(await self._term_counts(session, unread))
        placed = place(arrivals, closest_ids, stored, counts, total, settings)
        tallies = await self._tallies(session, placed, joining, now)
        stories = {key: tally.row.id for key, tally in tallies.items()}
        await session.execute(
            update(ArticleRow),
            [{"id": p.arrival.article_id, "story_id": stories[p.story]} for p in placed],
        )
        await self._file(session, placed)
        sources: dict[int, set[str]] = {key: set() for key in tallies}
        outcome = []
        for p, joined in zip(placed, joining, strict=True):
            sources[p.story].add(joined.source)
            outcome.append(
                Placement(
                    story_id=stories[p.story],
                    sources=len(sources[p.story] | tallies[p.story].sources),
                    decision=p.decision,
                    new_story=p.new_story,
                )
            )
        return outcome

    async def _tallies(
        self,
        session: AsyncSession,
        placed: Sequence[Placed],
        joining: Sequence[Joining],
        now: datetime,
    ) -> dict[int, _Tally]:
        """Each story the batch joins, its row counted again with the batch's articles: the
        stored ones read once, the new ones inserted (a placed story numbered below zero)."""
        stored = sorted({p.story for p in placed if p.story > 0})
        tallies: dict[int, _Tally] = {}
        if stored:
            rows = await session.scalars(select(StoryRow).where(StoryRow.id.in_(stored)))
            tallies = {row.id: _Tally(row, 0, set()) for row in rows}
            members = await session.execute(
                select(ArticleRow.story_id, ArticleRow.feed_id, ArticleRow.url).where(
                    ArticleRow.story_id.in_(stored)
                )
            )
            for story_id, feed_id, url in members.all():
                if story_id is None:  # not so: the query asks for these stories only
                    continue
                tally = tallies[story_id]
                tally.articles += 1
                tally.sources.add(source_key(feed_id, url))
        created: list[StoryRow] = []
        own: dict[int, set[str]] = {}
        for p, joined in zip(placed, joining, strict=True):
            at = p.arrival.at
            if p.story not in tallies:
                row = StoryRow(
                    title=joined.title, first_seen_at=at, last_seen_at=at, created_at=now
                )
                tallies[p.story] = _Tally(row, 0, set())
                created.append(row)
            tally = tallies[p.story]
            tally.articles += 1
            own.setdefault(p.story, set()).add(joined.source)
            tally.row.first_seen_at = min(tally.row.first_seen_at, at)
            tally.row.last_seen_at = max(tally.row.last_seen_at, at)
        for key, tally in tallies.items():
            tally.row.article_count = tally.articles
            tally.row.source_count = max(len(tally.sources | own.get(key, set())), 1)
        if created:
            table = table_of(StoryRow)
            ids = await session.scalars(
                insert(table).returning(table.c.id, sort_by_parameter_order=True),
                [
                    {
                        "title": row.title,
                        "first_seen_at": row.first_seen_at,
                        "last_seen_at": row.last_seen_at,
                        "created_at": row.created_at,
                        "article_count": row.article_count,
                        "source_count": row.source_count,
                    }
                    for row in created
                ],
            )
            for row, story_id in zip(created, ids.all(), strict=True):
                row.id = story_id  # the new rows are written here, never by the session
        return tallies

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

    async def _postings(
        self,
        session: AsyncSession,
        arrivals: Sequence[Arrival],
        keys: Sequence[Mapping[int, float]],
        settings: StorySettings,
    ) -> list[Posting]:
        """The stored postings of every key the batch looks up, within its articles' windows
        (overlapping windows read once)."""
        wanted = sorted({key for found in keys for key in found})
        if not wanted:
            return []
        window = timedelta(hours=settings.window_hours)
        spans: list[list[datetime]] = []
        for at in sorted(arrival.at for arrival in arrivals):
            if spans and at - window <= spans[-1][1]:
                spans[-1][1] = at + window
            else:
                spans.append([at - window, at + window])
        rows = await session.execute(
            select(StoryKeyRow.key, StoryKeyRow.at, StoryKeyRow.article_id).where(
                StoryKeyRow.key.in_(wanted),
                or_(*(StoryKeyRow.at.between(low, high) for low, high in spans)),
            )
        )
        ours = {arrival.article_id for arrival in arrivals}
        return [
            Posting(key, at, article_id)
            for key, at, article_id in rows.all()
            if article_id not in ours
        ]

    async def _candidates(self, session: AsyncSession, ids: set[int]) -> dict[int, Candidate]:
        """The stored articles ``ids`` that have a story, with their fingerprints."""
        if not ids:
            return {}
        rows = await session.execute(
            select(FingerprintRow, ArticleRow.story_id)
            .join(ArticleRow, ArticleRow.id == FingerprintRow.article_id)
            .where(FingerprintRow.article_id.in_(sorted(ids)))
        )
        return {
            row.article_id: Candidate(
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
        }

    async def _file(self, session: AsyncSession, placed: Sequence[Placed]) -> None:
        """Keep each fingerprint and its decision, and count the terms: one
        statement each for the whole batch."""
        printed = [(p, p.arrival.fingerprint) for p in placed if p.arrival.fingerprint]
        if not printed:
            return
        # Core inserts of the tables, not of the mapped classes: ORM bulk inserts cost more in
        # Python than the database takes to write these rows.
        await session.execute(
            insert(table_of(FingerprintRow)),
            [
                {
                    "article_id": p.arrival.article_id,
                    "at": p.arrival.at,
                    "title_terms": sorted(print_.title_terms),
                    "terms": sorted(print_.terms),
                    "names": sorted(print_.names),
                    "numbers": sorted(print_.numbers),
                    "signature": print_.signature,
                    "reason": p.decision.reason,
                    "similarity": p.decision.similarity,
                    "closest_article_id": p.decision.article_id,
                    "shared": list(p.decision.shared),
                    "actions": list(print_.actions),
                    "figures": sorted(print_.figures),
                    "text_names": sorted(print_.text_names),
                    "renewed": print_.renewed,
                }
                for p, print_ in printed
            ],
        )
        counted = Counter(term for _, print_ in printed for term in print_.terms)
        counted[EVERY_ARTICLE] = len(printed)
        table = table_of(TermCountRow)
        upsert = self._db.insert(table)
        # Sorted, so two writers upserting the same terms lock them in the same order.
        await session.execute(
            upsert.on_conflict_do_update(
                index_elements=["term"],
                set_={"articles": table.c.articles + upsert.excluded.articles},
            ),
            [{"term": term, "articles": counted[term]} for term in sorted(counted)],
        )

    async def topic_states(
        self, session: AsyncSession, story_ids: Iterable[int]
    ) -> dict[tuple[int, str], StoryTopicRow]:
        """The level and alert state of each topic of stored stories, by (story, topic)."""
        wanted = sorted(set(story_ids))
        if not wanted:
            return {}
        rows = await session.scalars(
            select(StoryTopicRow).where(StoryTopicRow.story_id.in_(wanted))
        )
        return {(row.story_id, row.topic): row for row in rows}

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
        state = None if new_story else await session.get(StoryTopicRow, (story_id, match.topic))
        states = {} if state is None else {(story_id, match.topic): state}
        return news_of(session, states, story_id, match, sources, now, update_after_sources)


def news_of(
    session: AsyncSession,
    states: dict[tuple[int, str], StoryTopicRow],
    story_id: int,
    match: TopicMatch,
    sources: int,
    now: datetime,
    update_after_sources: int,
) -> StoryNews:
    """Record an article's level for its story and topic in ``states`` (a new state added to
    the session); say what it changes."""
    level = match.level or "digest"
    state = states.get((story_id, match.topic))
    previous = state.level if state is not None else None
    if state is None:
        state = StoryTopicRow(story_id=story_id, topic=match.topic, level=level, notified_sources=0)
        states[(story_id, match.topic)] = state
        session.add(state)
    elif level == "alert":
        state.level = "alert"
    if level == "alert" and state.alerted_at is None:
        state.alerted_at, state.notified_sources = now, sources
        return StoryNews(first_alert=True, level_raised=previous == "digest")
    if state.alerted_at is not None and sources - state.notified_sources >= update_after_sources:
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
