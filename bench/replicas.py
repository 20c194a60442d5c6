"""Throughput of 1, 2 and 3 daemons sharing one PostgreSQL, side by side in one run.

Serves N local feeds of M items (a share on the default topic, with article pages) and a webhook
receiver from a separate process; for each replica count, starts that many real `monitor run`
processes on a fresh PostgreSQL database and measures, from the first feed request to the last:
feeds checked per second (every feed once) and alerts delivered per second.

Usage: python bench/replicas.py [--feeds 600] [--items 20] [--on-topic 0.05]
       [--postgres postgresql+asyncpg://postgres@127.0.0.1:5432/test]
"""

from __future__ import annotations

import argparse
import asyncio
import json
import multiprocessing
import os
import subprocess
import sys
import tempfile
import time
import urllib.request
import uuid
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))  # the bench reuses the feed builder of ingest.py and test helpers

import asyncpg  # noqa: E402
from aiohttp import web  # noqa: E402
from sqlalchemy.engine import make_url  # noqa: E402

from bench.ingest import SEED_PAGE, build_feed, free_port, wait_until_up  # noqa: E402
from tests.conftest import write_config  # noqa: E402


def serve(port: int, feeds: int, items: int, on_topic: float) -> None:
    """Feeds, article pages and a receiver, counting what happens, in their own process."""
    base = f"http://127.0.0.1:{port}"
    bodies = {i: build_feed(i, items, on_topic, base) for i in range(feeds)}
    stats: dict[str, Any] = {
        "fetched": {},
        "first": None,
        "last_fetch": None,
        "deliveries": 0,
        "last_delivery": None,
    }

    async def feed(request: web.Request) -> web.Response:
        now = time.monotonic()
        stats["first"] = stats["first"] or now
        stats["last_fetch"] = now
        index = int(request.match_info["index"])
        stats["fetched"][index] = stats["fetched"].get(index, 0) + 1
        return web.Response(body=bodies[index], content_type="application/rss+xml")

    async def article(_request: web.Request) -> web.Response:
        return web.Response(body=SEED_PAGE, content_type="text/html", charset="utf-8")

    async def hook(request: web.Request) -> web.Response:
        await request.read()
        stats["deliveries"] += 1
        stats["last_delivery"] = time.monotonic()
        return web.Response(status=204)

    async def report(_request: web.Request) -> web.Response:
        return web.json_response(
            {**stats, "fetched": len(stats["fetched"]), "fetches": sum(stats["fetched"].values())}
        )

    async def reset(_request: web.Request) -> web.Response:
        stats.update(fetched={}, first=None, last_fetch=None, deliveries=0, last_delivery=None)
        return web.Response(text="ok")

    app = web.Application()
    app.router.add_get("/feed/{index}.xml", feed)
    app.router.add_get("/article/{id}", article)
    app.router.add_post("/hook", hook)
    app.router.add_get("/stats", report)
    app.router.add_post("/reset", reset)
    web.run_app(app, host="127.0.0.1", port=port, print=None, access_log=None)


def stats(base: str) -> dict[str, Any]:
    with urllib.request.urlopen(f"{base}/stats", timeout=5) as response:
        result: dict[str, Any] = json.load(response)
    return result


async def scratch_database(url: str) -> str:
    parsed = make_url(url)
    name = f"monitor_bench_{uuid.uuid4().hex[:10]}"
    admin = await asyncpg.connect(
        host=parsed.host,
        port=parsed.port or 5432,
        user=parsed.username,
        password=parsed.password,
        database=parsed.database,
    )
    await admin.execute(f'CREATE DATABASE "{name}"')
    await admin.close()
    return parsed.set(database=name).render_as_string(hide_password=False)


def run(replicas: int, urls: list[str], base: str, database: str) -> dict[str, float]:
    with tempfile.TemporaryDirectory() as folder:
        config = write_config(
            Path(folder) / "bench.toml",
            feeds=urls,
            database_url=database,
            webhook_url=f"{base}/hook",
            sections={
                "poll": {
                    "tick_seconds": 0.5,
                    "interval_seconds": 3600,
                    "min_interval_seconds": 3600,
                    "max_interval_seconds": 3600,
                },
                "delivery": {"tick_seconds": 0.5},
                "fetch": {"per_host_concurrency": 16, "concurrency": 16},
            },
        )
        # Migrate and sync the feeds before the clock starts, as a running deployment has.
        subprocess.run(
            [sys.executable, "-m", "monitor", "--config", str(config), "db", "upgrade"],
            check=True,
            capture_output=True,
            cwd=folder,
            env={**os.environ, "PYTHONPATH": str(ROOT)},
        )
        urllib.request.urlopen(urllib.request.Request(f"{base}/reset", method="POST")).read()
        processes = [
            subprocess.Popen(
                [sys.executable, "-m", "monitor", "--config", str(config), "run"],
                cwd=folder,
                env={**os.environ, "PYTHONPATH": str(ROOT), "MONITOR_LOG_LEVEL": "error"},
                stdout=subprocess.DEVNULL,
                stderr=subprocess.DEVNULL,
            )
            for _ in range(replicas)
        ]
        try:
            # Done when every feed was fetched and neither a fetch nor an alert has come for 5 s
            # (time.monotonic is one clock for every process on this machine).
            deadline = time.monotonic() + 600
            while time.monotonic() < deadline:
                seen = stats(base)
                last = max(seen["last_fetch"] or 0, seen["last_delivery"] or 0)
                if seen["fetched"] >= len(urls) and time.monotonic() - last > 5:
                    break
                time.sleep(0.2)
        finally:
            for process in processes:
                process.terminate()
            for process in processes:
                process.wait(30)
    feeds_seconds = seen["last_fetch"] - seen["first"]
    alerts_seconds = seen["last_delivery"] - seen["first"]
    return {
        "feeds_per_s": len(urls) / feeds_seconds,
        "alerts_per_s": seen["deliveries"] / alerts_seconds,
        "fetches": seen["fetches"],
        "deliveries": seen["deliveries"],
        "seconds": alerts_seconds,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--feeds", type=int, default=600)
    parser.add_argument("--items", type=int, default=20)
    parser.add_argument("--on-topic", type=float, default=0.05)
    parser.add_argument(
        "--postgres",
        default=os.environ.get(
            "MONITOR_TEST_POSTGRES_URL", "postgresql+asyncpg://postgres@127.0.0.1:5432/test"
        ),
    )
    args = parser.parse_args()

    port = free_port()
    server = multiprocessing.Process(
        target=serve, daemon=True, args=(port, args.feeds, args.items, args.on_topic)
    )
    server.start()
    base = f"http://127.0.0.1:{port}"
    urls = [f"{base}/feed/{i}.xml" for i in range(args.feeds)]
    wait_until_up(urls[0])
    print(
        f"{args.feeds} feeds x {args.items} items, {args.on_topic:.0%} on the topic; "
        f"{os.cpu_count()} cores; PostgreSQL"
    )
    results = {}
    try:
        for replicas in (1, 2, 3):
            database = asyncio.run(scratch_database(args.postgres))
            results[replicas] = run(replicas, urls, base, database)
            r = results[replicas]
            print(
                f"{replicas} replica(s): {r['feeds_per_s']:7.1f} feeds/s  "
                f"{r['alerts_per_s']:6.1f} alerts/s  ({r['fetches']} fetches for "
                f"{args.feeds} feeds, {r['deliveries']} deliveries, {r['seconds']:.1f} s)"
            )
    finally:
        server.terminate()
    one = results[1]
    for replicas in (2, 3):
        feeds = results[replicas]["feeds_per_s"] / one["feeds_per_s"]
        alerts = results[replicas]["alerts_per_s"] / one["alerts_per_s"]
        print(f"scaling 1 -> {replicas}: feeds x{feeds:.2f}, alerts x{alerts:.2f}")


if __name__ == "__main__":
    main()
