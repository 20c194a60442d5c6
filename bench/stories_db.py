"""The database path of story grouping, for ``bench/stories.py --database sqlite|postgres``.

First the labelled replay again, through ``Store.save_article`` on an empty database: its
stories must be the in-memory replay's, pair for pair. Then the speed: a store is filled in
bulk with fingerprinted articles (each its own story, with its index keys and term counts),
then ``Store.save_article`` stores ``--batch`` further articles one by one, each in one
transaction (lock, article, lookup, decision, story, fingerprint, keys, counts, match, alerts),
and ``Store.save_articles`` as many again in transactions of ``poll.save_batch`` (as the
pipeline does when articles wait for the database). Timed once the store holds a tenth of the
articles, and again when it holds all.
"""

from __future__ import annotations

import asyncio
import itertools
import tempfile
import time
from collections import Counter
from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy import insert, select
from sqlalchemy.orm import aliased

from bench.poll import database_url
from bench.story_scores import Placed, print_of
from monitor.records import NewArticle, StoryFingerprint, TopicMatch
from monitor.settings import PollSettings
from monitor.store.engine import open_engine, upgrade_schema
from monitor.store.facade import Store
from monitor.store.stories import EVERY_ARTICLE
from monitor.store.tables import ArticleRow, FingerprintRow, StoryKeyRow, StoryRow, TermCountRow
from monitor.stories.fingerprint import index_keys
from monitor.stories.settings import StorySettings

NOW = datetime(2100, 1, 1, tzinfo=UTC)
MATCH = TopicMatch("bench", "alert", 1.0, ("bench",), ("bench",))
CHUNK = 2_000
SAVE_BATCH = PollSettings().save_batch  # the shipped default


def database_speed(
    items: list[Any], settings: StorySettings, stored: int, batch: int, kind: str
) -> None:
    with tempfile.TemporaryDirectory() as folder:
        url = database_url(kind, folder, "stories")
        asyncio.run(_run(url, items, settings, stored, batch, kind))


async def _run(
    url: str, items: list[Any], settings: StorySettings, stored: int, batch: int, kind: str
) -> None:
    engine = open_engine(url)
    await upgrade_schema(engine)
    store = Store(engine)
    await store.add_feed("https://bench.example/feed", "bench", NOW)
    [feed] = await store.feeds_to_poll(None)
    prints = {item.id: print_of(item, settings) for item in items}
    print(f"\ndatabase path on {kind} (Store.save_article, then Store.save_articles):")
    counts: Counter[str] = Counter()
    filled = 0
    for size in (stored // 10, stored):
        started = time.perf_counter()
        filled = await _fill(engine, items, prints, feed.id, filled, size, counts)
        fill_seconds = time.perf_counter() - started
        started = time.perf_counter()
        for number in range(size, size + batch):
            item, at = _nth(items, number)
            article = _article(feed.id, number, item, at, prints[item.id])
            await store.save_article(article, lambda _t: ["bench"], NOW, stories=settings)
            counts.update(article.fingerprint.terms if article.fingerprint else ())
            counts[EVERY_ARTICLE] += 1
        alone = time.perf_counter() - started
        started = time.perf_counter()
        for low in range(size + batch, size + 2 * batch, SAVE_BATCH):
            articles = []
            for number in range(low, min(low + SAVE_BATCH, size + 2 * batch)):
                item, at = _nth(items, number)
                articles.append(_article(feed.id, number, item, at, prints[item.id]))
            await store.save_articles(articles, lambda _t: ["bench"], NOW, stories=settings)
            for article in articles:
                counts.update(article.fingerprint.terms if article.fingerprint else ())
                counts[EVERY_ARTICLE] += 1
        together = time.perf_counter() - started
        print(
            f"  {size:>7,} stored (filled in {fill_seconds:.0f} s): one per transaction "
            f"{batch / alone:,.0f} articles/s ({alone / batch * 1000:.2f} ms each); "
            f"{SAVE_BATCH} per transaction {batch / together:,.0f} articles/s "
            f"({alone / together:.1f}x)"
        )
        filled = size + 2 * batch
    await engine.dispose()


def database_agreement(
    items: list[Any], settings: StorySettings, kind: str, replayed: dict[str, Placed]
) -> dict[str, Placed]:
    """Replay ``items`` through the database and return where it put them; print how many
    pairs it groups otherwise than ``replayed`` (the in-memory replay) does."""
    with tempfile.TemporaryDirectory() as folder:
        url = database_url(kind, folder, "agreement")
        stored = asyncio.run(_replay(url, items, settings))
    ids = sorted(replayed)
    differ = sum(
        1
        for a, b in itertools.combinations(ids, 2)
        if (stored[a].story == stored[b].story) != (replayed[a].story == replayed[b].story)
    )
    marked = sum(1 for i in ids if (stored[i].related is None) != (replayed[i].related is None))
    print(
        f"\nthe replay through Store.save_article on {kind}: "
        f"{len({p.story for p in stored.values()})} stories; pairs grouped otherwise than in "
        f"memory: {differ} of {len(ids) * (len(ids) - 1) // 2:,}; marked otherwise: {marked}"
    )
    return stored


async def _replay(url: str, items: list[Any], settings: StorySettings) -> dict[str, Placed]:
    engine = open_engine(url)
    await upgrade_schema(engine)
    store = Store(engine)
    await store.add_feed("https://bench.example/feed", "bench", NOW)
    [feed] = await store.feeds_to_poll(None)
    for number, item in enumerate(items):
        article = _article(feed.id, number, item, item.at, print_of(item, settings))
        await store.save_article(article, lambda _t: ["bench"], NOW, stories=settings)
    closest = aliased(ArticleRow)
    async with engine.connect() as connection:
        rows = (
            await connection.execute(
                select(ArticleRow.url, ArticleRow.story_id, FingerprintRow.reason, closest.story_id)
                .join(FingerprintRow, FingerprintRow.article_id == ArticleRow.id)
                .outerjoin(closest, closest.id == FingerprintRow.closest_article_id)
            )
        ).all()
    await engine.dispose()
    return {
        url.rsplit("/", 1)[1]: Placed(story, related if reason == "related" else None)
        for url, story, reason, related in rows
    }


def _nth(items: list[Any], number: int) -> tuple[Any, datetime]:
    copy, position = divmod(number, len(items))
    item = items[position]
    return item, item.at + timedelta(days=366 * copy)


def _article(
    feed_id: int, number: int, item: Any, at: datetime, print_: StoryFingerprint
) -> NewArticle:
    url = f"https://bench.example/{number}/{item.id}"
    return NewArticle(
        feed_id=feed_id,
        guid=url,
        url=url,
        canonical_url=url,
        title=item.title,
        summary=item.text[:200],
        text=item.text,
        published_at=at,
        language="en",
        matches=(MATCH,),
        fingerprint=print_,
        source_title="bench",
    )


async def _fill(
    engine: Any,
    items: list[Any],
    prints: dict[str, StoryFingerprint],
    feed_id: int,
    start: int,
    end: int,
    counts: Counter[str],
) -> int:
    """Articles ``start`` to ``end`` in bulk, each its own story; term counts rewritten."""
    offset = 1_000_000  # ids clear of those save_article takes
    for low in range(start, end, CHUNK):
        stories, articles, fingerprints, keys = [], [], [], []
        for number in range(low, min(low + CHUNK, end)):
            item, at = _nth(items, number)
            print_ = prints[item.id]
            ident = offset + number
            url = f"https://bench.example/{number}/{item.id}"
            stories.append(
                {
                    "id": ident,
                    "title": item.title,
                    "article_count": 1,
                    "source_count": 1,
                    "first_seen_at": at,
                    "last_seen_at": at,
                    "created_at": at,
                }
            )
            articles.append(
                {
                    "id": ident,
                    "feed_id": feed_id,
                    "guid": url,
                    "url": url,
                    "canonical_url": url,
                    "title": item.title,
                    "summary": "",
                    "text": "",
                    "language": "en",
                    "published_at": at,
                    "created_at": at,
                    "source_title": "bench",
                    "story_id": ident,
                }
            )
            fingerprints.append(
                {
                    "article_id": ident,
                    "at": at,
                    "title_terms": sorted(print_.title_terms),
                    "terms": sorted(print_.terms),
                    "names": sorted(print_.names),
                    "numbers": sorted(print_.numbers),
                    "signature": print_.signature,
                    "reason": "new",
                    "similarity": 0.0,
                    "closest_article_id": None,
                    "shared": [],
                }
            )
            keys += [{"key": key, "at": at, "article_id": ident} for key in index_keys(print_)]
            counts.update(print_.terms)
            counts[EVERY_ARTICLE] += 1
        async with engine.begin() as connection:
            await connection.execute(insert(StoryRow), stories)
            await connection.execute(insert(ArticleRow), articles)
            await connection.execute(insert(FingerprintRow), fingerprints)
            await connection.execute(insert(StoryKeyRow), keys)
    async with engine.begin() as connection:
        await connection.execute(TermCountRow.__table__.delete())
        await connection.execute(
            insert(TermCountRow), [{"term": t, "articles": n} for t, n in counts.items()]
        )
    return end
