"""Retention: old texts and delivered alerts go, what makes a story known stays."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import aiohttp

from monitor.app.once import run_once
from monitor.app.resources import open_store
from monitor.store.retention import Pruned
from tests.test_pipeline import serve_seed
from tests.web import Receiver, Site


async def test_a_pruned_story_is_still_known_and_never_alerts_again(
    site: Site, receiver: Receiver, fixtures_dir: Path, make_settings: Any
) -> None:
    feed = serve_seed(site, fixtures_dir)
    settings = make_settings([feed], receiver.url)
    assert (await run_once(settings)).delivery.sent == 1

    future = datetime.now(UTC) + timedelta(days=1)
    async with open_store(settings) as store:
        pruned = await store.prune(text_before=future, alerts_before=future)
        assert (pruned.article_texts, pruned.alerts) == (1, 1)
        assert await store.list_alerts() == []
        assert await store.count_articles() == 1
        again = await store.prune(text_before=future, alerts_before=future)
        assert (again.article_texts, again.alerts) == (0, 0)

    # The feed changes (so it is parsed again) but still carries the story.
    site.serve("/feed.xml", (await _body(site)).replace("<title>Test feed", "<title>Test feed 2"))
    report = await run_once(settings)
    assert (report.cycle.new_articles, report.delivery.sent) == (0, 0)
    assert len(receiver.deliveries) == 1


async def test_recent_and_undelivered_alerts_are_kept(
    site: Site, fixtures_dir: Path, make_settings: Any
) -> None:
    settings = make_settings([serve_seed(site, fixtures_dir)])  # no webhook: stays pending
    await run_once(settings)
    now = datetime.now(UTC)
    async with open_store(settings) as store:
        pruned = await store.prune(
            text_before=now - timedelta(days=1), alerts_before=now + timedelta(days=1)
        )
        assert pruned == Pruned(article_texts=0, alerts=0)
        assert len(await store.list_alerts(status="pending")) == 1


async def _body(site: Site) -> str:
    async with aiohttp.ClientSession() as http, http.get(site.url("/feed.xml")) as response:
        return await response.text()
