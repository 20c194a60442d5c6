"""The daemon in-process: scheduled polls and deliveries, and a shutdown that lets work finish."""

from __future__ import annotations

import asyncio
from pathlib import Path
from typing import Any

from aiohttp import web
from structlog.testing import capture_logs

from monitor.app.daemon import run_daemon
from monitor.app.resources import open_store
from tests.crash import FlakyReceiver, Story, plain_page
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


async def test_alerts_committed_while_a_delivery_pass_runs_are_sent_right_after_it(
    site: Site, make_settings: Any
) -> None:
    """A poll that stores alerts asks for a delivery at once; if a pass is running just then
    (it claimed its batch before those alerts existed), they go when it ends, not a tick
    later."""
    first, second = Story.make(0), Story.make(1)
    site.handle(first.path, plain_page(first))
    site.handle(second.path, plain_page(second))
    items = [first.item(site)]

    async def feed(_request: web.Request) -> web.Response:
        return web.Response(text=rss(items), content_type="application/rss+xml")

    receiver = await FlakyReceiver(hold=asyncio.Event()).start()
    settings = make_settings(
        [site.handle("/feed.xml", feed)],
        receiver.url,
        sections={
            "poll": {"interval_seconds": 0.3, "min_interval_seconds": 0.2},
            "delivery": {"tick_seconds": 3600},
        },
    )
    stop = asyncio.Event()

    def polls_that_stored_alerts() -> int:
        return sum(1 for e in logs if e["event"] == "poll finished" and e["alerts"])

    with capture_logs() as logs:
        daemon = asyncio.create_task(run_daemon(settings, stop))
        try:
            await asyncio.wait_for(receiver.holding.wait(), 20)  # a pass is sending the first
            items.append(second.item(site))
            async with asyncio.timeout(20):
                while True:
                    if polls_that_stored_alerts() == 2:  # the second story is in the outbox
                        break
                    await asyncio.sleep(0.05)
            receiver.hold.set()
            await receiver.wait_for(2, seconds=5)
        finally:
            receiver.hold.set()
            stop.set()
            await asyncio.wait_for(daemon, 10)
            await receiver.close()
    assert [d.payload["title"] for d in receiver.deliveries] == [first.title, second.title]
