"""Three real daemons on one PostgreSQL share 300 feeds with no double work, alert each story
exactly once, and take over the feeds of a replica killed mid-check."""

from __future__ import annotations

import asyncio
import itertools
import os
import signal
import sys
import time
from collections import defaultdict
from collections.abc import Awaitable, Callable
from pathlib import Path

import pytest
from aiohttp import web

from tests.conftest import ROOT, write_config
from tests.test_pipeline import SEED_LEAD, page_for
from tests.web import Item, Receiver, Site, rss

FEEDS = 300
STORIES = 30  # one in ten feeds carries a story on the topic
INTERVAL = 6.0  # every feed's interval (min = max in the config)
LEASE = 8.0  # longer than a check takes here, with three daemons on two cores
SLOW = {7, 8, 9}  # feeds that answer slowly, so a replica is mid-check when it is killed


@pytest.mark.slow
@pytest.mark.postgres
async def test_three_replicas_share_the_feeds(
    site: Site, receiver: Receiver, tmp_path: Path, postgres_url: str
) -> None:
    requests: dict[int, list[tuple[float, str]]] = defaultdict(list)
    answered: dict[int, list[float]] = defaultdict(list)

    def feed_handler(number: int, body: str) -> Callable[[web.Request], Awaitable[web.Response]]:
        async def handler(request: web.Request) -> web.Response:
            requests[number].append((time.monotonic(), request.headers["User-Agent"]))
            if number in SLOW:
                await asyncio.sleep(2.0)
            answered[number].append(time.monotonic())
            return web.Response(text=body, content_type="application/rss+xml")

        return handler

    feeds = []
    for number in range(FEEDS):
        items = [
            Item(
                f"Market report {number}",
                f"https://markets.example/{number}",
                "Prices moved little today.",
            )
        ]
        if number % (FEEDS // STORIES) == 0:
            link = page_for(site, f"/story/{number}", f"US and Iraq talks {number}", SEED_LEAD)
            items.append(
                Item(
                    f"US, Iraq hold talks on withdrawal of US troops, round {number}",
                    link,
                    SEED_LEAD,
                )
            )
        feeds.append(site.handle(f"/feed/{number}.xml", feed_handler(number, rss(items))))
    config = write_config(
        tmp_path / "monitor.toml",
        database_url=postgres_url,
        feeds=feeds,
        webhook_url=receiver.url,
        sections={
            "poll": {
                "tick_seconds": 0.5,
                "interval_seconds": INTERVAL,
                "min_interval_seconds": INTERVAL,
                "max_interval_seconds": INTERVAL,
                "lease_seconds": LEASE,
            },
            "delivery": {"tick_seconds": 0.5, "lease_seconds": LEASE},
            "fetch": {"concurrency": 16, "per_host_concurrency": 16},
        },
    )
    replicas = [await _start(config, tmp_path, n) for n in range(3)]
    try:
        await receiver.wait_for(STORIES, seconds=90)
        await asyncio.sleep(INTERVAL * 2)  # a couple of intervals of steady state

        # Kill replica 0 while it holds a slow feed, and see another replica take it over.
        victim, held = await _kill_mid_check(replicas[0], requests, answered)
        killed_at = time.monotonic()
        await asyncio.sleep(LEASE + INTERVAL + 3)
    finally:
        for process in replicas[1:]:
            process.send_signal(signal.SIGTERM)
        for process in replicas[1:]:
            await asyncio.wait_for(process.wait(), 20)

    # No double work: one feed is never fetched twice within its interval (10 % slack for
    # the time a check takes), by whichever replica -- but for the feed the killed replica
    # held, which is meant to be taken over once its lease runs out.
    for number, seen in requests.items():
        if number == held:
            continue
        times = sorted(at for at, _ in seen)
        gaps = [later - earlier for earlier, later in itertools.pairwise(times)]
        assert all(gap >= INTERVAL * 0.9 for gap in gaps), (number, gaps)
    # Every replica did part of the work.
    agents = {agent for seen in requests.values() for _, agent in seen}
    assert agents == {"replica-0", "replica-1", "replica-2"}
    # Every story alerted exactly once.
    urls = [delivery.payload["url"] for delivery in receiver.deliveries]
    assert len(urls) == len(set(urls)) == STORIES
    assert len({d.headers["webhook-id"] for d in receiver.deliveries}) == STORIES
    # The feed the killed replica held was checked by another within the lease (and a tick).
    after = [(at, agent) for at, agent in requests[held] if at > killed_at]
    assert after, f"feed {held} was not checked again after replica {victim} died"
    assert after[0][1] != "replica-0"
    assert after[0][0] - killed_at <= LEASE + 2.0


async def _start(config: Path, cwd: Path, number: int) -> asyncio.subprocess.Process:
    return await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "monitor",
        "--config",
        str(config),
        "run",
        cwd=cwd,
        env={
            **os.environ,
            "PYTHONPATH": str(ROOT),
            "MONITOR_FETCH__USER_AGENT": f"replica-{number}",
        },
        stdout=asyncio.subprocess.DEVNULL,
        stderr=asyncio.subprocess.DEVNULL,
    )


async def _kill_mid_check(
    process: asyncio.subprocess.Process,
    requests: dict[int, list[tuple[float, str]]],
    answered: dict[int, list[float]],
) -> tuple[int, int]:
    """SIGKILL ``process`` (replica 0) as soon as it is waiting on a slow feed; returns the
    replica's number and the feed it held."""
    async with asyncio.timeout(60):
        while True:
            for number in SLOW:
                seen = requests[number]
                if seen and seen[-1][1] == "replica-0" and len(answered[number]) < len(seen):
                    process.send_signal(signal.SIGKILL)
                    await process.wait()
                    return 0, number
            await asyncio.sleep(0.05)
