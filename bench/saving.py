"""How fast matched articles are saved: one process on SQLite and on PostgreSQL, and one against
three processes (replicas) sharing one PostgreSQL, side by side in one run.

Each run starts from a fresh database holding ``--stored`` fingerprinted articles (real
headlines and texts of the labelled 2023 sets, each its own story), then saves ``--articles``
further matched articles through ``Store.save_articles`` in transactions of ``poll.save_batch``
(the shipped default), as the pipeline does when articles wait for the database. With several
processes the articles are dealt out in turn, so replicas save neighbours in time (and stories)
at once. Timed from the moment every process is ready to the last commit; fingerprints are made
before (the pipeline makes them outside the save).

Usage: python bench/saving.py [--stored 10000] [--articles 2000] [--replicas 3]
"""

from __future__ import annotations

import argparse
import asyncio
import multiprocessing
import sys
import tempfile
import time
from collections import Counter
from multiprocessing.synchronize import Barrier
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench.poll import database_url  # noqa: E402
from bench.stories import DATA, read  # noqa: E402
from bench.stories_db import _article, _fill, _nth  # noqa: E402
from bench.story_scores import print_of  # noqa: E402
from monitor.settings import PollSettings, load_settings  # noqa: E402
from monitor.store.engine import open_engine, upgrade_schema  # noqa: E402
from monitor.store.facade import Store  # noqa: E402
from monitor.stories.settings import StorySettings  # noqa: E402

BATCH = PollSettings().save_batch


def items() -> list[Any]:
    return sorted(read(DATA / "dev-2023.jsonl") + read(DATA / "background-2023.jsonl"), key=at)


def at(item: Any) -> Any:
    return item.at


async def _prepare(url: str, stored: int, settings: StorySettings) -> int:
    engine = open_engine(url)
    await upgrade_schema(engine)
    store = Store(engine)
    await store.add_feed("https://bench.example/feed", "bench", _nth(items(), 0)[1])
    [feed] = await store.feeds_to_poll(None)
    everything = items()
    prints = {item.id: print_of(item, settings) for item in everything}
    await _fill(engine, everything, prints, feed.id, 0, stored, Counter())
    await engine.dispose()
    return feed.id


def _worker(
    url: str,
    feed_id: int,
    numbers: list[int],
    settings: StorySettings,
    ready: Barrier,
    results: Any,
) -> None:
    everything = items()
    articles = []
    for number in numbers:
        item, when = _nth(everything, number)
        articles.append(_article(feed_id, number, item, when, print_of(item, settings)))
    asyncio.run(_save(url, articles, settings, ready, results))


async def _save(
    url: str, articles: list[Any], settings: StorySettings, ready: Barrier, results: Any
) -> None:
    engine = open_engine(url)
    store = Store(engine)
    await store.count_articles()  # connected before the clock starts
    ready.wait()
    started = time.perf_counter()
    saved = 0
    for low in range(0, len(articles), BATCH):
        done = await store.save_articles(
            articles[low : low + BATCH],
            lambda _topic: ["bench"],
            articles[low].published_at,
            stories=settings,
        )
        saved += sum(1 for found in done if found is not None)
    results.put((started, time.perf_counter(), saved))
    await engine.dispose()


def run(kind: str, processes: int, stored: int, count: int, settings: StorySettings) -> float:
    with tempfile.TemporaryDirectory() as folder:
        url = database_url(kind, folder, f"saving{processes}")
        feed_id = asyncio.run(_prepare(url, stored, settings))
        numbers = list(range(stored, stored + count))
        context = multiprocessing.get_context("spawn")
        ready, results = context.Barrier(processes), context.Queue()
        workers = [
            context.Process(
                target=_worker,
                args=(url, feed_id, numbers[n::processes], settings, ready, results),
            )
            for n in range(processes)
        ]
        for worker in workers:
            worker.start()
        spans = [results.get() for _ in workers]
        for worker in workers:
            worker.join()
        seconds = max(end for _, end, _ in spans) - min(start for start, _, _ in spans)
        saved = sum(found for _, _, found in spans)
        rate = saved / seconds
        print(
            f"  {kind:<10} {processes} process(es): {saved:,} articles in {seconds:.1f} s = "
            f"{rate:,.0f} articles/s"
        )
        return rate


def main() -> None:
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--config", type=Path, default=ROOT / "config" / "monitor.toml")
    parser.add_argument("--stored", type=int, default=10_000)
    parser.add_argument("--articles", type=int, default=2_000)
    parser.add_argument("--replicas", type=int, default=3)
    args = parser.parse_args()
    settings = load_settings(args.config).stories
    print(
        f"saving {args.articles:,} matched articles on {args.stored:,} stored, "
        f"{BATCH} per transaction (poll.save_batch):"
    )
    run("sqlite", 1, args.stored, args.articles, settings)
    one = run("postgres", 1, args.stored, args.articles, settings)
    many = run("postgres", args.replicas, args.stored, args.articles, settings)
    print(f"  {args.replicas} replicas / 1 on PostgreSQL: {many / one:.2f}x")


if __name__ == "__main__":
    main()
