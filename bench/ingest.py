"""Throughput of a full poll cycle, side by side with what a simple script does, in one run.

Serves N local feeds of M items each (a few of them on the default topic, with article pages)
and a webhook receiver from a separate process, then compares like with like:

- cold: ``monitor once`` as a process, start-up included, on an empty SQLite database (fetch,
  parse, match, fetch and extract the matching articles, store, deliver), against a naive
  ``feedparser.parse(url)`` loop over the same feeds (which fetches no article page);
- warm: ``monitor once`` again, start-up included (conditional GET: nothing changed), against a
  bare aiohttp loop that sends each feed's ETag back at the shipped concurrency.

The per-host limit is raised to the global one: the feeds share one loopback address here, and
stand for as many publishers. Every other setting is the shipped default. The ``monitor``
processes run with Python's bytecode cache on, as an installed package does (pip compiles it at
install), whatever PYTHONDONTWRITEBYTECODE says in this environment: the cold pass writes the
cache, the warm pass reads it.

Usage: python bench/ingest.py [--feeds 50] [--items 50] [--on-topic 0.02]
"""

from __future__ import annotations

import argparse
import asyncio
import hashlib
import multiprocessing
import os
import random
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request
from datetime import UTC, datetime, timedelta
from email.utils import format_datetime
from pathlib import Path
from xml.sax.saxutils import escape

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))  # the test helpers write the config, as the tests do

import aiohttp  # noqa: E402
import feedparser  # noqa: E402
from aiohttp import web  # noqa: E402

from monitor.fetch.settings import FetchSettings  # noqa: E402
from tests.conftest import write_config  # noqa: E402

CONCURRENCY = FetchSettings().concurrency  # the shipped default

SEED_PAGE = (ROOT / "tests" / "fixtures" / "seed-article.html").read_bytes()
ON_TOPIC = [
    "US and Iraq open talks on the future of coalition troops",
    "Iraq's prime minister says US-led coalition mission must end",
    "Higher Military Commission meets in Baghdad on US troop drawdown",
]
OFF_TOPIC = [
    "Central bank holds interest rates steady amid inflation worries",
    "Storm brings floods to coastal towns as rivers burst their banks",
    "Championship leaders stretch their lead with a late winner",
    "New museum exhibition explores a century of photography",
    "Tech company unveils its latest phone with a folding screen",
]


def build_feed(index: int, items: int, on_topic: float, base: str) -> bytes:
    rng = random.Random(index)
    start = datetime(2024, 1, 25, tzinfo=UTC)
    parts = [
        f"<?xml version='1.0' encoding='utf-8'?><rss version='2.0'><channel>"
        f"<title>Feed {index}</title><link>{base}/</link><description>bench</description>"
    ]
    for number in range(items):
        relevant = rng.random() < on_topic
        title = rng.choice(ON_TOPIC if relevant else OFF_TOPIC)
        link = f"{base}/article/{index}-{number}" if relevant else f"{base}/other/{index}-{number}"
        description = (
            "The United States and Iraq began talks on the withdrawal of American troops."
            if relevant
            else "A story about something else entirely, told at some length. " * 3
        )
        published = format_datetime(start + timedelta(minutes=number))
        parts.append(
            f"<item><title>{escape(title)} ({index}-{number})</title>"
            f"<link>{escape(link)}</link><description>{escape(description)}"
            f"</description><guid>{escape(link)}</guid><pubDate>{published}</pubDate>"
            "</item>"
        )
    parts.append("</channel></rss>")
    return "".join(parts).encode()


def serve(port: int, feeds: int, items: int, on_topic: float) -> None:
    """The publishers and the receiver, in their own process so they do not share our CPU."""
    base = f"http://127.0.0.1:{port}"
    bodies = {i: build_feed(i, items, on_topic, base) for i in range(feeds)}
    etags = {i: '"' + hashlib.sha1(body).hexdigest() + '"' for i, body in bodies.items()}

    async def feed(request: web.Request) -> web.Response:
        index = int(request.match_info["index"])
        if request.headers.get("If-None-Match") == etags[index]:
            return web.Response(status=304)
        return web.Response(
            body=bodies[index], content_type="application/rss+xml", headers={"ETag": etags[index]}
        )

    async def article(_request: web.Request) -> web.Response:
        return web.Response(body=SEED_PAGE, content_type="text/html", charset="utf-8")

    async def hook(request: web.Request) -> web.Response:
        await request.read()
        return web.Response(status=204)

    app = web.Application()
    app.router.add_get("/feed/{index}.xml", feed)
    app.router.add_get("/article/{id}", article)
    app.router.add_post("/hook", hook)
    web.run_app(app, host="127.0.0.1", port=port, print=None, access_log=None)


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def wait_until_up(url: str) -> None:
    for _ in range(100):
        try:
            urllib.request.urlopen(url, timeout=1).read()
            return
        except OSError:
            time.sleep(0.1)
    raise SystemExit(f"bench server did not start at {url}")


def naive_loop(urls: list[str]) -> tuple[float, int]:
    started = time.perf_counter()
    entries = sum(len(feedparser.parse(url).entries) for url in urls)
    return time.perf_counter() - started, entries


async def bare_conditional_loop(urls: list[str]) -> tuple[float, int]:
    """Each feed fetched once to learn its ETag (untimed), then again with it, timed: the least
    any poller must do on a warm cycle. Returns the time and how many answered 304."""
    slots = asyncio.Semaphore(CONCURRENCY)
    async with aiohttp.ClientSession() as http:

        async def etag(url: str) -> str:
            async with slots, http.get(url) as response:
                await response.read()
                return response.headers.get("ETag", "")

        tags = await asyncio.gather(*(etag(url) for url in urls))

        async def again(url: str, tag: str) -> int:
            async with slots, http.get(url, headers={"If-None-Match": tag}) as response:
                await response.read()
                return response.status

        started = time.perf_counter()
        statuses = await asyncio.gather(*(again(u, t) for u, t in zip(urls, tags, strict=True)))
        return time.perf_counter() - started, statuses.count(304)


ENVIRONMENT = {key: value for key, value in os.environ.items() if key != "PYTHONDONTWRITEBYTECODE"}


def monitor_once(config: Path) -> tuple[float, str]:
    """``monitor once`` as a user runs it, start-up included; its time and its summary line."""
    started = time.perf_counter()
    done = subprocess.run(
        [sys.executable, "-m", "monitor", "--config", str(config), "once"],
        capture_output=True,
        text=True,
        check=True,
        cwd=ROOT,
        env=ENVIRONMENT,
    )
    return time.perf_counter() - started, done.stdout.strip().splitlines()[-1]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--feeds", type=int, default=50)
    parser.add_argument("--items", type=int, default=50)
    parser.add_argument("--on-topic", type=float, default=0.02)
    args = parser.parse_args()

    port = free_port()
    server = multiprocessing.Process(
        target=serve, daemon=True, args=(port, args.feeds, args.items, args.on_topic)
    )
    server.start()
    base = f"http://127.0.0.1:{port}"
    urls = [f"{base}/feed/{i}.xml" for i in range(args.feeds)]
    wait_until_up(urls[0])
    try:
        with tempfile.TemporaryDirectory() as folder:
            config = write_config(
                Path(folder) / "bench.toml",
                feeds=urls,
                database_url=f"sqlite+aiosqlite:///{folder}/bench.db",
                webhook_url=f"{base}/hook",
                sections={"fetch": {"per_host_concurrency": CONCURRENCY}},
            )
            upgrade = [sys.executable, "-m", "monitor", "--config", str(config), "db", "upgrade"]
            subprocess.run(upgrade, check=True, capture_output=True, cwd=ROOT, env=ENVIRONMENT)
            cold_seconds, cold_line = monitor_once(config)
            warm_seconds, warm_line = monitor_once(config)
        naive_seconds, naive_entries = naive_loop(urls)
        bare_seconds, not_modified = asyncio.run(bare_conditional_loop(urls))
    finally:
        server.terminate()
        server.join()

    total = args.feeds * args.items
    print(
        f"{args.feeds} feeds x {args.items} items = {total} entries, "
        f"on-topic share {args.on_topic:.0%}; {os.cpu_count()} cores; concurrency {CONCURRENCY}"
    )
    print("cold (every feed new; monitor also fetches and extracts the on-topic pages)")
    print(f"  monitor once       : {cold_seconds:7.2f} s  {total / cold_seconds:9.0f} entries/s")
    print(f"                       {cold_line}")
    print(
        f"  naive feedparser   : {naive_seconds:7.2f} s  {naive_entries / naive_seconds:9.0f} "
        "entries/s  (fetch + parse, one feed at a time)"
    )
    print(f"  monitor / naive    : {naive_seconds / cold_seconds:7.2f}x")
    print("warm (nothing changed: every feed answers 304)")
    feeds = args.feeds
    print(f"  monitor once       : {warm_seconds:7.2f} s  {feeds / warm_seconds:9.0f} feeds/s")
    print(f"                       {warm_line}")
    print(
        f"  bare aiohttp loop  : {bare_seconds:7.2f} s  {feeds / bare_seconds:9.0f} feeds/s  "
        f"({not_modified} answered 304)"
    )
    print(f"  monitor / bare     : {bare_seconds / warm_seconds:7.2f}x")


if __name__ == "__main__":
    main()
