"""Memory over a long run: the daemon's poll job, warm cycle after warm cycle, in one process.

Serves N local feeds from a separate process: each answers 304 to its own ETag, and a small share
of them publish a new (off-topic) item each cycle and answer 200, so parsing, the entry stages
and storage run too. This process builds the pipeline as ``monitor run`` does, with the shipped
settings (only the per-host limit is raised to the global one: the feeds share one loopback
address here, and stand for as many publishers), on a SQLite database, and calls the poll job
``monitor run`` schedules (``Worker.poll_due``) until no feed is due, then the delivery job: one
cycle. Its clock moves a day ahead per cycle so that every feed is due at every cycle.

Prints the resident memory (RSS) every ``--every`` cycles, then a verdict: within ``--limit`` MB
at its peak, and not growing (the mean of the last tenth of the samples against the mean of the
tenth after warm-up, within ``--tolerance`` MB).

Usage: python bench/soak.py [--feeds 5000] [--cycles 1000] [--every 50] [--changed 0.01]
"""

from __future__ import annotations

import argparse
import asyncio
import hashlib
import json
import multiprocessing
import re
import resource
import statistics
import sys
import tempfile
import time
from datetime import UTC, datetime, timedelta
from email.utils import format_datetime
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))  # the ingest bench's helpers

from aiohttp import web  # noqa: E402
from apscheduler.schedulers.asyncio import AsyncIOScheduler  # noqa: E402

from bench.ingest import OFF_TOPIC, free_port, wait_until_up  # noqa: E402
from monitor.app.http_server import Liveness  # noqa: E402
from monitor.app.jobs import Worker  # noqa: E402
from monitor.app.logs import configure_logging  # noqa: E402
from monitor.app.resources import open_pipeline  # noqa: E402
from monitor.fetch.settings import FetchSettings  # noqa: E402
from monitor.settings import load_settings  # noqa: E402

CONCURRENCY = FetchSettings().concurrency  # the shipped default
SHIPPED_CONFIG = ROOT / "config" / "monitor.toml"
ITEMS = 5  # items a feed carries: its newest ones
DUE_PER_TICK = 1000  # what Store.feeds_to_poll hands the poll job at most, per tick


def build_feed(index: int, generation: int) -> bytes:
    """Feed ``index`` as of its ``generation``: one new item per generation, the last few kept."""
    published = datetime(2024, 1, 25, tzinfo=UTC)
    parts = [
        "<?xml version='1.0' encoding='utf-8'?><rss version='2.0'><channel>"
        f"<title>Feed {index}</title><link>https://news.example/</link><description>soak"
        "</description>"
    ]
    for number in range(max(0, generation - ITEMS + 1), generation + 1):
        title = OFF_TOPIC[(index + number) % len(OFF_TOPIC)]
        link = f"https://news.example/{index}/{number}"
        when = format_datetime(published + timedelta(hours=number))
        parts.append(
            f"<item><title>{title} ({index}-{number})</title><link>{link}</link>"
            f"<description>Something else entirely.</description><guid>{link}</guid>"
            f"<pubDate>{when}</pubDate></item>"
        )
    parts.append("</channel></rss>")
    return "".join(parts).encode()


def serve(port: int, feeds: int, changed: float) -> None:
    """The publishers, in their own process. Feed i publishes at its requests number k where
    (k + i) is a multiple of round(1 / changed): that share of the feeds changes every cycle."""
    period = max(1, round(1 / changed)) if changed > 0 else 0
    requests = [0] * feeds
    generations = [ITEMS - 1] * feeds
    bodies = [build_feed(i, generations[i]) for i in range(feeds)]

    def etag(index: int) -> str:
        return '"' + hashlib.sha1(bodies[index]).hexdigest() + '"'

    async def feed(request: web.Request) -> web.Response:
        index = int(request.match_info["index"])
        requests[index] += 1
        if period and requests[index] > 1 and (requests[index] + index) % period == 0:
            generations[index] += 1
            bodies[index] = build_feed(index, generations[index])
        tag = etag(index)
        if request.headers.get("If-None-Match") == tag:
            return web.Response(status=304, headers={"ETag": tag})
        return web.Response(
            body=bodies[index], content_type="application/rss+xml", headers={"ETag": tag}
        )

    app = web.Application()
    app.router.add_get("/feed/{index}.xml", feed)
    web.run_app(app, host="127.0.0.1", port=port, print=None, access_log=None)


def write_soak_config(path: Path, database_url: str, urls: list[str]) -> Path:
    """The shipped config file (config/monitor.toml) with its own feeds replaced by ``urls``,
    its database by ``database_url``, loopback fetches allowed and the per-host limit raised."""
    shipped = SHIPPED_CONFIG.read_text(encoding="utf-8").split("\n[[feeds]]", 1)[0]
    for key, value in (
        ("database_url", json.dumps(database_url)),
        ("log_format", '"json"'),
        ("allow_networks", '["127.0.0.0/8"]'),
        ("per_host_concurrency", str(CONCURRENCY)),
    ):
        shipped, found = re.subn(rf"(?m)^{key} = .*$", f"{key} = {value}", shipped, count=1)
        assert found, f"config/monitor.toml sets no {key}"
    feeds = "".join(f"\n[[feeds]]\nurl = {json.dumps(url)}" for url in urls)
    path.write_text(shipped + feeds + "\n", encoding="utf-8")
    return path


def rss_mb() -> float:
    """This process's resident memory now, in MB."""
    with open("/proc/self/statm", encoding="ascii") as statm:
        pages = int(statm.read().split()[1])
    return pages * resource.getpagesize() / 1e6


class DayAhead:
    """A clock that moves a day ahead at each cycle, so every feed is due at every cycle."""

    def __init__(self) -> None:
        self.days = 0

    def __call__(self) -> datetime:
        return datetime.now(UTC) + timedelta(days=self.days)


async def soak(config: Path, cycles: int, every: int) -> list[tuple[int, float, float]]:
    """Run the cycles; (cycle, RSS in MB, seconds per cycle since the last sample) samples."""
    settings = load_settings(config)
    ticks = -(-len(settings.feeds) // DUE_PER_TICK)
    configure_logging(settings.log_format, settings.log_level)
    clock = DayAhead()
    samples: list[tuple[int, float, float]] = []
    async with open_pipeline(settings, clock) as context:
        print(f"     0 {rss_mb():8.1f} MB  (started)", flush=True)
        worker = Worker(context, AsyncIOScheduler(timezone=UTC), Liveness())
        started = time.perf_counter()
        for cycle in range(1, cycles + 1):
            clock.days += 1
            for _tick in range(ticks):  # the job takes at most a thousand due feeds a tick
                await worker.poll_due()
            await worker.deliver()
            if cycle % every == 0 or cycle == 1:
                seconds = (time.perf_counter() - started) / (every if cycle > 1 else 1)
                samples.append((cycle, rss_mb(), seconds))
                print(f"{cycle:6d} {samples[-1][1]:8.1f} MB {seconds:7.2f} s/cycle", flush=True)
                started = time.perf_counter()
    return samples


def verdict(samples: list[tuple[int, float, float]], limit: float, tolerance: float) -> str:
    peak = max(rss for _, rss, _ in samples)
    tenth = max(1, len(samples) // 10)
    settled = statistics.fmean(rss for _, rss, _ in samples[tenth : 2 * tenth])
    last = statistics.fmean(rss for _, rss, _ in samples[-tenth:])
    within = peak <= limit
    steady = last - settled <= tolerance
    return (
        f"peak {peak:.1f} MB ({'within' if within else 'OVER'} {limit:g} MB); "
        f"{last - settled:+.1f} MB from the second tenth of the run to the last "
        f"({'steady' if steady else 'GROWING'}, tolerance {tolerance:g} MB): "
        + ("PASS" if within and steady else "FAIL")
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--feeds", type=int, default=5000)
    parser.add_argument("--cycles", type=int, default=1000)
    parser.add_argument("--every", type=int, default=50, help="cycles between two samples")
    parser.add_argument("--changed", type=float, default=0.01, help="share of feeds that change")
    parser.add_argument("--limit", type=float, default=150, help="peak RSS allowed, MB")
    parser.add_argument("--tolerance", type=float, default=5, help="growth allowed, MB")
    args = parser.parse_args()

    port = free_port()
    server = multiprocessing.Process(
        target=serve, daemon=True, args=(port, args.feeds, args.changed)
    )
    server.start()
    urls = [f"http://127.0.0.1:{port}/feed/{i}.xml" for i in range(args.feeds)]
    wait_until_up(urls[0])
    print(
        f"{args.feeds} feeds, {args.changed:.0%} changing per cycle, {args.cycles} cycles; "
        f"concurrency {CONCURRENCY}\n cycle      RSS      time"
    )
    try:
        with tempfile.TemporaryDirectory() as folder:
            config = write_soak_config(
                Path(folder) / "soak.toml", f"sqlite+aiosqlite:///{folder}/soak.db", urls
            )
            samples = asyncio.run(soak(config, args.cycles, args.every))
    finally:
        server.terminate()
        server.join()
    print(verdict(samples, args.limit, args.tolerance))


if __name__ == "__main__":
    main()
