"""The daemon in-process: scheduled polls and deliveries, and a shutdown that lets work finish."""

from __future__ import annotations

import asyncio
from pathlib import Path
from typing import Any

from aiohttp import web

from monitor.daemon import run_daemon
from monitor.runtime import open_store
from tests.test_pipeline import SEED_LEAD, SEED_TITLE, serve_seed
from tests.web import Item, Receiver, Site, rss


async def test_the_daemon_polls_delivers_and_stops(
    site: Site, receiver: Receiver, fixtures_dir: Path, make_settings: Any
) -> None:
    settings = make_settings([serve_seed(site, fixtures_dir)], receiver.url)
    stop = asyncio.Event()
    daemon = asyncio.create_task(run_daemon(settings, stop))
    await receiver.wait_for(1, seconds=20)
    await asyncio.sleep(0.5)  # a few more ticks: nothing new, nothing sent twice
    stop.set()
    await asyncio.wait_for(daemon, 10)
    assert len(receiver.deliveries) == 1
    assert site.hits("/feed.xml") == 1  # the next check is 15 minutes away


async def test_a_stop_during_a_feed_check_lets_it_finish(
    site: Site, receiver: Receiver, make_settings: Any
) -> None:
    stop = asyncio.Event()

    async def slow_page(_request: web.Request) -> web.Response:
        stop.set()  # the operator presses Ctrl-C while the article is being fetched
        await asyncio.sleep(1)
        return web.Response(
            text=f"<html><body><article><p>{SEED_LEAD}</p></article></body></html>",
            content_type="text/html",
        )

    page = site.handle("/article", slow_page)
    feed = site.serve("/feed.xml", rss([Item(SEED_TITLE, page, SEED_LEAD)]))
    settings = make_settings([feed])  # no webhook: the alert must stay pending, not be lost

    await asyncio.wait_for(run_daemon(settings, stop), 15)

    async with open_store(settings) as store:
        assert await store.count_articles() == 1
        [alert] = await store.list_alerts()
        assert alert.status == "pending"
        [status] = await store.list_feeds()
        assert status.last_success_at is not None
