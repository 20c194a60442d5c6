"""Matched articles saved in batches, on SQLite and PostgreSQL: a batch groups, counts and
alerts exactly as the same articles saved one by one; a copy inside one batch is stored once;
one bad article fails only itself; two replicas saving batches of one new story make one."""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator, Sequence
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from sqlalchemy import select

from monitor.app.saving import ArticleBatches
from monitor.records import NewArticle
from monitor.store.engine import open_engine, upgrade_schema
from monitor.store.facade import Store
from monitor.store.tables import AlertRow, ArticleRow, FingerprintRow, StoryRow
from monitor.stories.fingerprint import fingerprint
from tests.test_story_store import ALERT, DIGEST, RACES, article, feeds, to

SAMPLE = Path(__file__).parent / "fixtures" / "relevance" / "labelled-sample.jsonl"
NOW = datetime(2030, 1, 1, tzinfo=UTC)


def coverage(feed_ids: Sequence[int]) -> list[NewArticle]:
    """Real headlines and leads, each carried by every feed (a copy per outlet) within hours,
    alternately at alert and digest level, in time order."""
    items = [json.loads(line) for line in SAMPLE.read_text(encoding="utf-8").splitlines()]
    articles = []
    for number, item in enumerate(items):
        day = datetime.fromisoformat(item["day_file"]).replace(tzinfo=UTC)
        for copy, feed in enumerate(feed_ids):
            url = f"https://www.outlet{feed}.com/{item['id']}"
            text = item["description"] or item["title"]
            articles.append(
                NewArticle(
                    feed_id=feed,
                    guid=url,
                    url=url,
                    canonical_url=url,
                    title=item["title"],
                    summary=text,
                    text=text,
                    published_at=day + timedelta(hours=number % 5 + copy),
                    language="en",
                    matches=(ALERT if (number + copy) % 2 else DIGEST,),
                    fingerprint=fingerprint(item["title"], text),
                    source_title=f"Outlet {feed}",
                )
            )
    return sorted(articles, key=lambda a: (a.published_at or NOW, a.url))


async def opened(url: str) -> Store:
    engine = open_engine(url)
    await upgrade_schema(engine)
    return Store(engine)


@pytest.fixture
async def store(database_url: str) -> AsyncIterator[Store]:
    opened_store = await opened(database_url)
    yield opened_store
    await opened_store.db.engine.dispose()


async def outcome(store: Store) -> dict[str, object]:
    """What a user sees of the stored articles: which share a story, why each joined, the
    stories' counts, and the alerts of each article, by URL."""
    async with store.db.engine.connect() as connection:
        rows = (
            await connection.execute(
                select(
                    ArticleRow.url,
                    ArticleRow.story_id,
                    FingerprintRow.reason,
                    StoryRow.article_count,
                    StoryRow.source_count,
                )
                .join(FingerprintRow, FingerprintRow.article_id == ArticleRow.id)
                .join(StoryRow, StoryRow.id == ArticleRow.story_id)
            )
        ).all()
        alerts = (
            await connection.execute(
                select(ArticleRow.url, AlertRow.kind, AlertRow.endpoint).join(
                    AlertRow, AlertRow.article_id == ArticleRow.id
                )
            )
        ).all()
    stories: dict[int, list[str]] = {}
    for url, story, *_ in rows:
        stories.setdefault(story, []).append(url)
    return {
        "stories": sorted(sorted(urls) for urls in stories.values()),
        "articles": sorted((url, why, count, sources) for url, _, why, count, sources in rows),
        "alerts": sorted(tuple(row) for row in alerts),
    }


async def test_a_batch_groups_counts_and_alerts_as_one_by_one_does(
    store: Store, tmp_path: Path
) -> None:
    one_by_one = await opened(f"sqlite+aiosqlite:///{tmp_path / 'one-by-one.db'}")
    try:
        articles = coverage(await feeds(store, 3))
        assert await feeds(one_by_one, 3) == sorted({a.feed_id for a in articles})
        alone = [
            await one_by_one.save_article(a, to("a", "b"), NOW, story_updates={"b"})
            for a in articles
        ]
        batched: list[int | None] = []
        for start in range(0, len(articles), 7):
            batched += await store.save_articles(
                articles[start : start + 7], to("a", "b"), NOW, story_updates={"b"}
            )
        assert batched == alone
        expected, found = await outcome(one_by_one), await outcome(store)
        assert found == expected
        # The sample holds copies and events reported twice: some stories have several articles.
        assert any(len(urls) > 1 for urls in found["stories"])  # type: ignore[attr-defined]
        assert len(found["stories"]) < len(articles)  # type: ignore[arg-type]
    finally:
        await one_by_one.db.engine.dispose()


async def test_a_copy_within_one_batch_is_stored_once_and_alerts_once(store: Store) -> None:
    [feed] = await feeds(store, 1)
    [first] = coverage([feed])[:1]
    again = replace(first, guid=first.guid + "?again")  # the same address
    assert await store.save_articles([first, again, first], to("a"), NOW) == [1, None, None]
    assert await store.save_articles([first], to("a"), NOW) == [None]
    assert len(await store.list_alerts()) == 1


async def test_one_bad_article_fails_alone_and_its_batch_is_saved(store: Store) -> None:
    first, second = await feeds(store, 2)
    good = [a for a in coverage([first, second]) if a.matches[0].level == "alert"][:4]
    url = "https://x.example/1"
    bad = replace(good[0], url=url, canonical_url=url, guid=url, feed_id=999_999)

    async def save_many(articles: Sequence[NewArticle]) -> list[int | None]:
        return await store.save_articles(articles, to("a"), NOW)

    batches = ArticleBatches(save_many, most=32)
    results = await asyncio.gather(
        *(batches.save(a) for a in [good[0], bad, *good[1:]]), return_exceptions=True
    )
    assert isinstance(results[1], Exception)  # no such feed: the database refuses it
    assert all(isinstance(found, int) for n, found in enumerate(results) if n != 1)
    async with store.db.engine.connect() as connection:
        urls = set((await connection.scalars(select(ArticleRow.url))).all())
    assert urls == {a.url for a in good}


async def test_two_replicas_saving_batches_of_one_new_story_make_one_story(
    database_url: str,
) -> None:
    """Each replica saves, in one batch, its own copy of each of four new stories, at the
    same moment as the other: the database decides, and each story has both copies."""
    replicas = [await opened(database_url), await opened(database_url)]
    try:
        first, second = await feeds(replicas[0], 2)
        batches = [
            [article(feed, n, title, text) for n, (title, text) in enumerate(RACES)]
            for feed in (first, second)
        ]
        results = await asyncio.gather(
            *(
                replica.save_articles(batch, to("a"), NOW)
                for replica, batch in zip(replicas, batches, strict=True)
            )
        )
        assert sorted(sum(found or 0 for found in result) for result in results) == [0, 4]
        stories = await replicas[0].list_stories()
        assert len(stories) == len(RACES)
        assert all(story.article_count == 2 and story.source_count == 2 for story in stories)
        assert len(await replicas[0].list_alerts()) == len(RACES)
    finally:
        for replica in replicas:
            await replica.db.engine.dispose()
