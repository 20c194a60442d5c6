"""Steady-state polling throughput: thousands of local feeds that have not changed.

Serves N feeds spread over H loopback hosts (127.0.1.1, 127.0.1.2, …, so the per-host limit
acts as it would on the internet) from a separate process, then, in this process (one core):

- cold: the first poll of every feed (fetch, parse, match; no article pages: nothing matches);
- warm: every feed answers 304 Not Modified to the conditional GET;
- unchanged: every feed sends its whole body again, without validators; the body hash says it
  is the same, so it is not parsed.

Each timed cycle is what one daemon tick does: pick the due feeds, check them, record them.
Start-up (migrations, syncing the config's feeds) is timed apart.

Usage: python bench/poll.py [--feeds 2000] [--hosts 50] [--items 20] [--profile]
"""

from __future__ import annotations

import argparse
import asyncio
import atexit
import cProfile
import hashlib
import multiprocessing
import os
import pstats
import resource
import sys
import tempfile
import time
import uuid
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))  # the test helpers write the config, as the tests do

from aiohttp import web  # noqa: E402
from sqlalchemy.engine import make_url  # noqa: E402

from bench.ingest import OFF_TOPIC, free_port, wait_until_up  # noqa: E402
from monitor.app.logs import configure_logging  # noqa: E402
from monitor.app.pipeline import CycleReport, PipelineContext, poll_feeds  # noqa: E402
from monitor.app.resources import open_pipeline  # noqa: E402
from monitor.settings import Settings, load_settings  # noqa: E402
from tests.conftest import (  # noqa: E402
    POSTGRES_URL,
    _create_database,
    _drop_database,
    write_config,
)


def host(index: int, hosts: int) -> str:
    return f"127.0.1.{index % hosts + 1}"


def build_feed(index: int, items: int) -> bytes:
    parts = [
        "<?xml version='1.0' encoding='utf-8'?><rss version='2.0'><channel>"
        f"<title>Feed {index}</title><link>https://news.example/</link><description>bench"
        "</description>"
    ]
    for number in range(items):
        title = OFF_TOPIC[(index + number) % len(OFF_TOPIC)]
        link = f"https://news.example/{index}/{number}"
        parts.append(
            f"<item><title>{title} ({index}-{number})</title><link>{link}</link>"
            f"<description>Something else entirely.</description><guid>{link}</guid>"
            f"<pubDate>Thu, 25 Jan 2024 {number % 24:02d}:00:00 GMT</pubDate></item>"
        )
    parts.append("</channel></rss>")
    return "".join(parts).encode()


def serve(port: int, feeds: int, hosts: int, items: int) -> None:
    """The publishers, in their own process so they do not share our core."""
    pin(1)
    bodies = [build_feed(i, items) for i in range(feeds)]
    etags = ['"' + hashlib.sha1(body).hexdigest() + '"' for body in bodies]

    async def conditional(request: web.Request) -> web.Response:
        index = int(request.match_info["index"])
        if request.headers.get("If-None-Match") == etags[index]:
            return web.Response(status=304, headers={"ETag": etags[index]})
        return web.Response(
            body=bodies[index], content_type="application/rss+xml", headers={"ETag": etags[index]}
        )

    async def plain(request: web.Request) -> web.Response:
        return web.Response(
            body=bodies[int(request.match_info["index"])], content_type="application/rss+xml"
        )

    app = web.Application()
    app.router.add_get("/feed/{index}.xml", conditional)
    app.router.add_get("/plain/{index}.xml", plain)
    app.router.add_get("/up", up)
    addresses = sorted({host(i, hosts) for i in range(hosts)})
    web.run_app(app, host=addresses, port=port, print=None, access_log=None)


async def up(_request: web.Request) -> web.Response:
    return web.Response(text="up")


async def timed(
    context: PipelineContext, label: str, profile: cProfile.Profile | None = None
) -> tuple[str, float, CycleReport]:
    started = time.perf_counter()
    if profile:
        profile.enable()
    feeds = await context.store.feeds_to_poll(None, limit=1_000_000)
    report = await poll_feeds(context, feeds)
    if profile:
        profile.disable()
    return label, time.perf_counter() - started, report


async def run(settings: Settings, second: str, profile: cProfile.Profile | None) -> list[Any]:
    started = time.perf_counter()
    async with open_pipeline(settings) as context:
        startup = time.perf_counter() - started
        cold = await timed(context, "cold")
        again = await timed(context, second, profile)
    return [("start-up", startup, None), cold, again]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--feeds", type=int, default=2000)
    parser.add_argument("--hosts", type=int, default=50)
    parser.add_argument("--items", type=int, default=20)
    parser.add_argument("--concurrency", type=int, default=64)
    parser.add_argument("--database", choices=["sqlite", "postgres"], default="sqlite")
    parser.add_argument(
        "--profile", action="store_true", help="profile the warm and unchanged-body cycles"
    )
    args = parser.parse_args()

    port = free_port()
    pin(0)  # measured on one core; the server gets the other one
    server = multiprocessing.Process(
        target=serve, daemon=True, args=(port, args.feeds, args.hosts, args.items)
    )
    server.start()
    wait_until_up(f"http://{host(0, args.hosts)}:{port}/up")
    profile = cProfile.Profile() if args.profile else None
    configure_logging("json", "error")
    rows: list[Any] = []
    try:
        with tempfile.TemporaryDirectory() as folder:
            for path, second in (("feed", "warm (304)"), ("plain", "unchanged body")):
                urls = [
                    f"http://{host(i, args.hosts)}:{port}/{path}/{i}.xml" for i in range(args.feeds)
                ]
                config = write_config(
                    Path(folder) / f"{path}.toml",
                    feeds=urls,
                    database_url=database_url(args.database, folder, path),
                    sections={
                        "fetch": {
                            "allow_networks": ["127.0.0.0/8"],
                            "concurrency": args.concurrency,
                            "total_timeout_seconds": 30,
                            "read_timeout_seconds": 30,
                        }
                    },
                )
                measured = asyncio.run(run(load_settings(config), second, profile))
                rows += measured if not rows else measured[1:]
    finally:
        server.terminate()
        server.join()

    peak_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(
        f"{args.feeds} feeds on {args.hosts} hosts, {args.items} items each; fetch concurrency "
        f"{args.concurrency}, 2 per host; {args.database}; this process on one core, the "
        "server on another"
    )
    for label, seconds, report in rows:
        if report is None:
            print(f"{label:16}: {seconds:6.2f} s (migrate, sync {args.feeds} config feeds)")
            continue
        print(
            f"{label:16}: {seconds:6.2f} s  {report.feeds / seconds:8.0f} feeds/s  "
            f"({report.feeds} feeds, {report.failed} failed)"
        )
    print(f"peak RSS        : {peak_mb:6.1f} MB")
    if profile:
        pstats.Stats(profile).sort_stats("cumulative").print_stats(30)


def pin(core: int) -> None:
    """Keep this process on one core, when the machine has more than one."""
    if hasattr(os, "sched_setaffinity") and (os.cpu_count() or 1) > 1:
        os.sched_setaffinity(0, {core})


def database_url(kind: str, folder: str, name: str) -> str:
    """A fresh database: a SQLite file, or a scratch PostgreSQL database (dropped at exit)."""
    if kind == "sqlite":
        return f"sqlite+aiosqlite:///{folder}/{name}.db"
    scratch = f"monitor_bench_{uuid.uuid4().hex[:8]}"
    asyncio.run(_create_database(scratch))
    atexit.register(lambda: asyncio.run(_drop_database(scratch)))
    return make_url(POSTGRES_URL).set(database=scratch).render_as_string(hide_password=False)


if __name__ == "__main__":
    main()
