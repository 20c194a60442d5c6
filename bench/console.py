"""How long each console page, API listing and Atom feed takes to answer with a large
database: 10,000 feeds, 100,000 articles in 40,000 stories, 20,000 alerts with attempts.

Fills a fresh database (SQLite file, or a PostgreSQL database created and dropped here), serves
the daemon's real aiohttp app on loopback, and requests every page ``--repeat`` times after one
warm-up; prints the median and the 95th percentile of the time to the full answer, measured at
the client (so it includes the local HTTP round trip: an upper bound on the server's time), and
of the server's time (from the request's arrival to the handler's answer, before it is sent).

Usage: python bench/console.py [--database sqlite|postgres|both] [--repeat 20]
           [--feeds 10000] [--articles 100000] [--page TEXT ...]

``--page TEXT`` times only the pages whose path contains TEXT (repeatable), to save minutes.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import statistics
import sys
import tempfile
import time
import uuid
from datetime import UTC, datetime, timedelta
from pathlib import Path

import aiohttp
import asyncpg
from aiohttp import web
from aiohttp.test_utils import TestServer
from aiohttp.typedefs import Handler
from sqlalchemy import insert
from sqlalchemy.engine import URL, make_url

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from monitor.app.daemon import freeze_start_up_heap
from monitor.app.http_server import Liveness, ServerParts, build_app
from monitor.app.metrics import Metrics
from monitor.app.resources import open_store
from monitor.settings import Settings, load_settings
from monitor.store.tables import (
    AlertRow,
    ArticleRow,
    AttemptRow,
    FeedRow,
    StoryRow,
    StoryTopicRow,
)

ROOT = Path(__file__).resolve().parent.parent
POSTGRES = os.environ.get(
    "MONITOR_TEST_POSTGRES_URL", "postgresql+asyncpg://postgres@127.0.0.1:5432/test"
)
NOW = datetime.now(UTC).replace(microsecond=0)
CHUNK = 2000
BUDGET_MS = 100.0


def settings_for(database_url: str) -> Settings:
    os.environ["MONITOR_DATABASE_URL"] = database_url
    os.environ.pop("MONITOR_HTTP__TOKEN", None)
    return load_settings(ROOT / "config" / "monitor.toml")


async def fill(settings: Settings, feeds: int, articles: int) -> dict[str, object]:
    """Rows as the daemon would leave them; returns ids that the pages will ask for."""
    topic = settings.topics[0].name
    stories = articles * 2 // 5
    async with open_store(settings) as store:
        engine = store.db.engine  # the bench writes rows directly, many per statement
        async with engine.begin() as db:
            for start in range(0, feeds, CHUNK):
                await db.execute(
                    insert(FeedRow),
                    [
                        {
                            "url": f"https://outlet{n}.example/feed.xml?api_key=k{n}",
                            "name": None,
                            "title": f"Outlet {n}",
                            "origin": "config",
                            "enabled": n % 50 != 0,
                            "next_check_at": NOW + timedelta(seconds=n),
                            "last_checked_at": NOW,
                            "last_success_at": NOW,
                            "error_count": 3 if n % 20 == 0 else 0,
                            "last_error": "HTTP 503" if n % 20 == 0 else None,
                            "last_status": 200,
                            "created_at": NOW,
                            "refusal_count": 0,
                        }
                        for n in range(start, min(feeds, start + CHUNK))
                    ],
                )
            for start in range(0, stories, CHUNK):
                await db.execute(
                    insert(StoryRow),
                    [
                        {
                            "title": f"Story {n} about talks",
                            "article_count": 2,
                            "source_count": 2,
                            "first_seen_at": NOW - timedelta(minutes=stories - n),
                            "last_seen_at": NOW - timedelta(minutes=stories - n),
                            "created_at": NOW,
                        }
                        for n in range(start + 1, min(stories, start + CHUNK) + 1)
                    ],
                )
            for start in range(0, articles, CHUNK):
                await db.execute(
                    insert(ArticleRow),
                    [
                        {
                            "feed_id": n % feeds + 1,
                            "guid": f"g{n}",
                            "url": f"https://o.example/{n}",
                            "canonical_url": f"https://o.example/{n}",
                            "title": f"Article {n}",
                            "summary": "A summary of the article. " * 8,
                            "text": "Text. " * 200,
                            "language": "en",
                            "published_at": NOW,
                            "created_at": NOW,
                            "source_title": f"Outlet {n % feeds}",
                            "story_id": n % stories + 1,
                        }
                        for n in range(start, min(articles, start + CHUNK))
                    ],
                )
            alerted = list(range(1, stories + 1, 2))  # every other story alerted
            for start in range(0, len(alerted), CHUNK):
                await db.execute(
                    insert(StoryTopicRow),
                    [
                        {
                            "story_id": s,
                            "topic": topic,
                            "level": "alert",
                            "alerted_at": NOW - timedelta(minutes=stories - s),
                            "notified_sources": 2,
                        }
                        for s in alerted[start : start + CHUNK]
                    ],
                )
            alert_ids = [str(uuid.uuid4()) for _ in alerted]
            statuses = ("delivered",) * 8 + ("pending", "dead")
            for start in range(0, len(alerted), CHUNK):
                rows = list(
                    zip(
                        alert_ids[start : start + CHUNK],
                        alerted[start : start + CHUNK],
                        strict=True,
                    )
                )
                await db.execute(
                    insert(AlertRow),
                    [
                        {
                            "id": a,
                            "kind": "article.matched",
                            "article_id": s - 1 + 1,
                            "story_id": s,
                            "topic": topic,
                            "endpoint": "default",
                            "status": statuses[s % 10],
                            "payload": {"type": "article.matched", "title": f"Story {s}"},
                            "attempts": 1,
                            "next_attempt_at": NOW,
                            "created_at": NOW - timedelta(minutes=stories - s),
                        }
                        for a, s in rows
                    ],
                )
                await db.execute(
                    insert(AttemptRow),
                    [
                        {
                            "alert_id": a,
                            "number": 1,
                            "at": NOW,
                            "status_code": 200,
                            "error": None,
                            "duration_ms": 12,
                        }
                        for a, _ in rows
                    ],
                )
    return {
        "story": stories // 2 + 1,
        "alert": alert_ids[len(alert_ids) // 2],
        "feed": feeds // 2,
        "alerts": len(alert_ids),
    }


def percentiles(times: list[float]) -> tuple[float, float]:
    """The median and the 95th percentile."""
    times = sorted(times)
    return statistics.median(times), times[min(len(times) - 1, int(len(times) * 0.95))]


async def measure(
    settings: Settings, ids: dict[str, object], repeat: int, only: list[str]
) -> list[tuple[str, tuple[float, float], tuple[float, float]]]:
    pages = [
        "/",
        "/stories",
        f"/stories/{ids['story']}",
        "/alerts",
        "/alerts?status=dead",
        f"/alerts/{ids['alert']}",
        "/feeds",
        "/feeds?state=failing",
        f"/feeds/{ids['feed']}",
        "/topics",
        "/feeds/alerts.atom",
        "/feeds/export.opml",
        "/api/v1/overview",
        "/api/v1/feeds?limit=200",
        "/api/v1/stories",
        "/api/v1/alerts?status=delivered",
    ]
    results = []
    async with open_store(settings) as store:
        parts = ServerParts(
            store, Metrics(), Liveness(), lambda: datetime.now(UTC), timedelta(minutes=1), settings
        )
        served: list[float] = []

        @web.middleware
        async def timed(request: web.Request, handler: Handler) -> web.StreamResponse:
            started = time.perf_counter()
            try:
                return await handler(request)
            finally:
                served.append((time.perf_counter() - started) * 1000)

        app = build_app(parts)
        app.middlewares.insert(0, timed)
        server = TestServer(app, host="127.0.0.1")
        await server.start_server()
        freeze_start_up_heap()  # as the daemon does once started
        try:
            async with aiohttp.ClientSession() as http:
                # The last page of feeds, reached by its cursor, costs what the first costs.
                async with http.get(server.make_url("/api/v1/feeds?limit=200")) as r:
                    cursor = (await r.json())["next_cursor"]
                pages.append(f"/feeds?cursor={cursor}")
                if only:
                    pages = [path for path in pages if any(text in path for text in only)]
                for path in pages:
                    times = []
                    served.clear()
                    for _ in range(repeat + 1):
                        started = time.perf_counter()
                        async with http.get(server.make_url(path)) as r:
                            await r.read()
                            assert r.status == 200, (path, r.status)
                        times.append((time.perf_counter() - started) * 1000)
                    results.append((path, percentiles(times[1:]), percentiles(served[1:])))
        finally:
            await server.close()
    return results


async def vacuum(url: URL) -> None:
    """VACUUM ANALYZE the filled database, as autovacuum would soon after such a load: without
    it a count reads the whole heap (no visibility map) and plans go without statistics. The
    test server may run with autovacuum off; a production one does not."""
    connection = await asyncpg.connect(
        host=url.host, port=url.port or 5432, user=url.username, database=url.database
    )
    try:
        await connection.execute("VACUUM ANALYZE")
    finally:
        await connection.close()


async def run(kind: str, args: argparse.Namespace) -> bool:
    if kind == "sqlite":
        folder = tempfile.mkdtemp(prefix="monitor-console-bench-")
        url = f"sqlite+aiosqlite:///{folder}/monitor.db"
    else:
        name = f"monitor_bench_{uuid.uuid4().hex[:8]}"
        admin_url = make_url(POSTGRES)
        admin = await asyncpg.connect(
            host=admin_url.host,
            port=admin_url.port or 5432,
            user=admin_url.username,
            database=admin_url.database,
        )
        await admin.execute(f'CREATE DATABASE "{name}"')
        url = admin_url.set(database=name).render_as_string(hide_password=False)
    try:
        settings = settings_for(url)
        started = time.perf_counter()
        ids = await fill(settings, args.feeds, args.articles)
        if kind == "postgres":
            await vacuum(admin_url.set(database=name))
        print(
            f"\n{kind}: filled {args.feeds} feeds, {args.articles} articles, "
            f"{args.articles * 2 // 5} stories, {ids['alerts']} alerts in "
            f"{time.perf_counter() - started:.0f} s"
        )
        print(f"{'':48} {'at the client':>19} {'at the server':>19}")
        print(f"{'page':48} {'median ms':>10} {'p95 ms':>8} {'median ms':>10} {'p95 ms':>8}")
        ok = True
        for path, (median, p95), (served, served_p95) in await measure(
            settings, ids, args.repeat, args.page
        ):
            flag = "" if p95 <= BUDGET_MS else "  OVER BUDGET"
            ok = ok and not flag
            print(
                f"{path[:48]:48} {median:10.1f} {p95:8.1f} {served:10.1f} {served_p95:8.1f}{flag}"
            )
        return ok
    finally:
        if kind == "postgres":
            await admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
            await admin.close()


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--database", choices=["sqlite", "postgres", "both"], default="both")
    parser.add_argument("--repeat", type=int, default=20)
    parser.add_argument("--feeds", type=int, default=10_000)
    parser.add_argument("--articles", type=int, default=100_000)
    parser.add_argument(
        "--page", action="append", default=[], help="time only the pages whose path has this"
    )
    args = parser.parse_args()
    kinds = ["sqlite", "postgres"] if args.database == "both" else [args.database]
    verdicts = [asyncio.run(run(kind, args)) for kind in kinds]  # every database, even after a miss
    ok = all(verdicts)
    print(f"\nevery page within {BUDGET_MS:.0f} ms (p95): {'yes' if ok else 'NO'}")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
