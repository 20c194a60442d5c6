"""/healthz, /readyz and /metrics of a running daemon, including through a database outage."""

from __future__ import annotations

import asyncio
import socket
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any

import aiohttp
import pytest
from aiohttp import web
from prometheus_client.parser import text_string_to_metric_families
from sqlalchemy.engine import make_url

from monitor.app.daemon import run_daemon
from monitor.settings import load_settings
from tests.conftest import write_config
from tests.tcp_proxy import TcpProxy
from tests.test_pipeline import SEED_LEAD, page_for, serve_seed
from tests.web import Item, Receiver, Site, rss


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


async def eventually(check: Callable[[], Awaitable[bool]], seconds: float = 20) -> None:
    async with asyncio.timeout(seconds):
        # Polling is the point: the daemon's HTTP answers are what a prober would see.
        while not await check():  # noqa: ASYNC110
            await asyncio.sleep(0.1)


async def get(port: int, path: str) -> tuple[int, str]:
    async with aiohttp.ClientSession() as http, http.get(f"http://127.0.0.1:{port}{path}") as r:
        return r.status, await r.text()


def samples(text: str) -> dict[tuple[str, tuple[tuple[str, str], ...]], float]:
    """Every sample of a Prometheus exposition, parsed by prometheus_client's own parser."""
    return {
        (sample.name, tuple(sorted(sample.labels.items()))): sample.value
        for family in text_string_to_metric_families(text)
        for sample in family.samples
    }


async def test_health_readiness_and_metrics_follow_the_work(
    site: Site, receiver: Receiver, fixtures_dir: Path, tmp_path: Path, sqlite_url: str
) -> None:
    port = free_port()
    config = write_config(
        tmp_path / "monitor.toml",
        database_url=sqlite_url,
        feeds=[serve_seed(site, fixtures_dir)],
        webhook_url=receiver.url,
        sections={"http": {"port": port}},
    )
    stop = asyncio.Event()
    daemon = asyncio.create_task(run_daemon(load_settings(config), stop))
    try:
        await eventually(lambda: _status_is(port, "/healthz", 200))
        await receiver.wait_for(1, seconds=20)
        await eventually(lambda: _status_is(port, "/readyz", 200))
        status, text = await get(port, "/metrics")
        assert status == 200
        values = samples(text)
        assert values[("monitor_articles", ())] == 1
        topic = ("topic", "us-iraq-security-talks")
        assert values[("monitor_topic_matches", (("level", "alert"), topic))] == 1
        assert values[("monitor_feed_fetches_total", (("outcome", "ok"),))] >= 1
        assert values[("monitor_feed_entries_parsed_total", ())] >= 1
        assert values[("monitor_delivery_attempts_total", (("outcome", "delivered"),))] == 1
        assert values[("monitor_alerts", (("status", "delivered"),))] == 1
        assert values[("monitor_alerts_pending_due", ())] == 0
        assert values[("monitor_feeds", (("status", "ok"),))] == 1
        assert values[("monitor_last_successful_poll_timestamp_seconds", ())] > 0
    finally:
        stop.set()
        await asyncio.wait_for(daemon, 15)


async def _status_is(port: int, path: str, expected: int) -> bool:
    try:
        status, _ = await get(port, path)
    except aiohttp.ClientError:
        return False
    return status == expected


@pytest.mark.postgres
async def test_a_database_outage_makes_it_unready_and_loses_nothing(
    site: Site, receiver: Receiver, tmp_path: Path, postgres_url: str
) -> None:
    url = make_url(postgres_url)
    proxy = await TcpProxy(url.host or "127.0.0.1", url.port or 5432).start()
    through_proxy = url.set(host="127.0.0.1", port=proxy.port).render_as_string(False)
    items: list[Item] = []
    feed_body: dict[str, Any] = {"rss": rss([])}

    async def feed(_request: web.Request) -> web.Response:
        return web.Response(text=feed_body["rss"], content_type="application/rss+xml")

    port = free_port()
    config = write_config(
        tmp_path / "monitor.toml",
        database_url=through_proxy,
        webhook_url=receiver.url,
        feeds=[site.handle("/feed.xml", feed)],
        sections={
            "http": {"port": port},
            "poll": {"tick_seconds": 0.2, "min_interval_seconds": 1, "interval_seconds": 1},
        },
    )
    stop = asyncio.Event()
    daemon = asyncio.create_task(run_daemon(load_settings(config), stop))
    try:
        await eventually(lambda: _status_is(port, "/readyz", 200))
        await proxy.cut()
        await eventually(lambda: _status_is(port, "/readyz", 503))
        # A story appears while the database is away.
        items.append(
            Item(
                title="U.S. and Iraq begin talks on withdrawal of American troops",
                link=page_for(site, "/story", "US-Iraq talks", SEED_LEAD),
                description=SEED_LEAD,
            )
        )
        feed_body["rss"] = rss(items)
        await asyncio.sleep(1.5)
        await proxy.restore()
        await eventually(lambda: _status_is(port, "/readyz", 200))
        await receiver.wait_for(1, seconds=30)
    finally:
        stop.set()
        await asyncio.wait_for(daemon, 15)
        await proxy.close()
    assert [d.payload["url"] for d in receiver.deliveries] == [site.url("/story")]
