"""Fuzzing the pipeline with hostile publisher input: thousands of malformed and exotic entries
(links, charsets, dates, entities, sizes, title encodings) mixed with good ones, through real
feeds and article pages on a local server. Every good entry is stored and alerted exactly
once, every feed ends ``ok``, and every failure is handled by the stage that reads the input."""

from __future__ import annotations

import random
import time
from pathlib import Path

import pytest
import structlog
from sqlalchemy import select

import monitor.fetch.http
from monitor.app.once import run_once
from monitor.fetch.http import open_http_session
from monitor.settings import load_settings
from monitor.store.engine import open_engine
from monitor.store.tables import ArticleRow, FeedRow
from tests.conftest import toml_value, write_config
from tests.fuzz_entries import (
    FUZZ_TOPICS,
    Entry,
    feed_xml,
    good_entry,
    hostile_entry,
    serve_hostile_pages,
)
from tests.web import Receiver, ScriptedResolver, Site

ENCODINGS = ["utf-8", "utf-16", "iso-8859-1", "windows-1251", "koi8-r", "shift_jis", "gb18030"]
# Events that mean a stage let an exception through to the boundary behind it.
ESCAPED = {"feed check crashed", "entry failed; it is tried again at the next check"}


async def fuzz(
    site: Site,
    receiver: Receiver,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    *,
    seed: int,
    hostile: int,
    feeds: int,
    good_per_feed: int = 2,
) -> None:
    rng = random.Random(seed)
    # Every host name resolves to the local site: exotic names are fetched, never looked up.
    resolver = ScriptedResolver(["127.0.0.1"])
    monkeypatch.setattr(
        monitor.fetch.http,  # open_pipeline imports it from there when it opens
        "open_http_session",
        lambda settings: open_http_session(settings, resolver=resolver),
    )
    port = int(site.url("/").split(":")[2].split("/")[0])
    pages = serve_hostile_pages(site, "localhost") + serve_hostile_pages(site, "127.0.0.1")
    feed_urls, good_links = [], []
    per_feed = hostile // feeds
    for number in range(feeds):
        entries: list[Entry] = [
            hostile_entry(rng, number * per_feed + n, pages, port) for n in range(per_feed)
        ]
        for n in range(good_per_feed):
            good = good_entry(rng, site, number * good_per_feed + n)
            entries.insert(rng.randrange(len(entries) + 1), good)
            good_links.append(good.good_link)
        encoding = ENCODINGS[number % len(ENCODINGS)]
        feed_urls.append(
            site.serve(
                f"/feed-{number}.xml",
                feed_xml(entries, encoding),
                content_type=rng.choice(
                    ["application/rss+xml", f"text/xml; charset={encoding}", "text/html"]
                ),
            )
        )
    config = write_config(
        tmp_path / "fuzz.toml",
        database_url=f"sqlite+aiosqlite:///{tmp_path / 'fuzz.db'}",
        feeds=feed_urls,
        sections={
            "fetch": {"max_bytes": 6_000_000, "max_redirects": 3},
            "poll": {"article_concurrency": 16},
        },
        webhooks=[{"name": "good", "url": receiver.url, "topics": ["good"]}],
    )
    with config.open("a", encoding="utf-8") as file:
        for topic in FUZZ_TOPICS:
            file.write("[[topics]]\n")
            file.writelines(f"{key} = {toml_value(value)}\n" for key, value in topic.items())
    settings = load_settings(config)

    with structlog.testing.capture_logs([structlog.contextvars.merge_contextvars]) as logs:
        first = await run_once(settings)
        again = await run_once(settings)  # nothing new, nothing sent twice

    failures = [e for e in logs if e["event"] == "feed check failed"]
    assert failures == [], failures[:3]
    escaped = [entry for entry in logs if entry["event"] in ESCAPED or entry.get("exc_info")]
    assert escaped == [], escaped[:5]
    assert (first.cycle.feeds, first.cycle.failed) == (feeds, 0)
    assert (again.cycle.failed, again.delivery.sent) == (0, 0)
    checked = [entry for entry in logs if entry["event"] == "feed checked"]
    assert sum(entry["entries"] for entry in checked[:feeds]) >= hostile * 0.9
    delivered = sorted(d.payload["url"] for d in receiver.deliveries)
    assert delivered == sorted(good_links)
    engine = open_engine(settings.database_url)
    try:
        async with engine.connect() as connection:
            query = select(ArticleRow.url).where(ArticleRow.url.in_(good_links))
            stored = set((await connection.execute(query)).scalars())
            states = (
                await connection.execute(
                    select(FeedRow.error_count, FeedRow.last_error, FeedRow.enabled)
                )
            ).all()
    finally:
        await engine.dispose()
    assert stored == set(good_links)
    assert set(states) == {(0, None, True)}  # every feed ends ok


async def test_two_thousand_hostile_entries_leave_the_good_ones_and_the_feeds_whole(
    site: Site, receiver: Receiver, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    started = time.perf_counter()
    await fuzz(site, receiver, tmp_path, monkeypatch, seed=13, hostile=2100, feeds=7)
    print(f"2,100 hostile entries in {time.perf_counter() - started:.1f} s")


@pytest.mark.slow
@pytest.mark.timeout(1800)
@pytest.mark.parametrize("seed", [1, 2])
async def test_twenty_thousand_hostile_entries(
    site: Site, receiver: Receiver, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, seed: int
) -> None:
    await fuzz(site, receiver, tmp_path, monkeypatch, seed=seed, hostile=20_000, feeds=40)
