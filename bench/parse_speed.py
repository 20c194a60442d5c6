"""Time parsing real news feeds, feedparser path against fast path, side by side in one run.

Both columns are the whole of ``parse_feed``'s work (entity guard, parsing, HTML-to-text of every
entry): "feedparser" forces the safety-net path, "parse_feed" is what monitor runs (the fast
reader, or feedparser where it declines; the path is shown).

The "reader" column is the fast reader alone (lxml parse and field rules, before HTML-to-text),
the figure to set against feedparser's own parse.

Usage: python bench/parse_speed.py [FOLDER] [--repeat 20]
       (FOLDER defaults to ../shared/data/feeds/rss-parser: Guardian, heise, Herald Sun, UOL,
       Reddit, FeedBurner, Craigslist…)
"""

from __future__ import annotations

import argparse
import sys
import time
from collections.abc import Callable
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from monitor.parse.fast_feed import read_xml_feed  # noqa: E402
from monitor.parse.feed import (  # noqa: E402
    FeedParseError,
    guard_feed,
    parse_feed,
    read_fast,
    read_with_feedparser,
)

DEFAULT_FOLDER = ROOT.parent / "shared" / "data" / "feeds" / "rss-parser"
URL = "https://news.example/feed"
# The charset a server would send for the one Latin-1 feed of the folder (as the tests do).
CONTENT_TYPES = {"uolNoticias.rss": "application/rss+xml; charset=ISO-8859-1"}


def feedparser_path(body: bytes, content_type: str | None) -> object:
    guarded = guard_feed(body, content_type)
    return read_with_feedparser(guarded.body, URL, content_type, guarded.removed)


def best_seconds(work: Callable[[], object], repeat: int) -> float:
    """The least time of ``repeat`` runs: the run least disturbed by the other processes."""
    times = []
    for _ in range(repeat):
        started = time.perf_counter()
        work()
        times.append(time.perf_counter() - started)
    return min(times)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("folder", nargs="?", type=Path, default=DEFAULT_FOLDER)
    parser.add_argument("--repeat", type=int, default=20)
    args = parser.parse_args()
    print(f"{'feed':30} {'KB':>6} {'entries':>7} {'feedparser':>11} {'parse_feed':>11} "
          f"{'speed-up':>8} {'reader':>8}  path")  # fmt: skip
    totals = {"bytes": 0, "slow": 0.0, "fast": 0.0, "entries": 0}
    for path in sorted(args.folder.iterdir()):
        if path.name == "LICENSE" or not path.is_file():
            continue
        body, content_type = path.read_bytes(), CONTENT_TYPES.get(path.name)
        try:
            entries = len(parse_feed(body, URL, content_type).entries)
        except FeedParseError:
            continue  # not a feed: neither path has anything to time
        guarded = guard_feed(body, content_type)
        fast = read_fast(guarded.body, URL, content_type, guarded.removed) is not None
        slow_s = best_seconds(lambda: feedparser_path(body, content_type), args.repeat)  # noqa: B023
        fast_s = best_seconds(lambda: parse_feed(body, URL, content_type), args.repeat)  # noqa: B023
        reader_s = 0.0
        if fast:
            document = guarded.body
            reader_s = best_seconds(
                lambda: read_xml_feed(document, URL, content_type),  # noqa: B023
                args.repeat,
            )
        totals["bytes"] += len(body)
        totals["slow"] += slow_s
        totals["fast"] += fast_s
        totals["entries"] += entries
        print(f"{path.name:30} {len(body) / 1024:6.1f} {entries:7} {slow_s * 1e3:9.2f}ms "
              f"{fast_s * 1e3:9.2f}ms {slow_s / fast_s:7.1f}x "
              f"{f'{reader_s * 1e3:6.2f}ms' if fast else '-':>8}  "
              f"{'fast' if fast else 'feedparser'}")  # fmt: skip
    megabytes = totals["bytes"] / 1e6
    print(
        f"all: {megabytes:.2f} MB, {totals['entries']} entries; feedparser "
        f"{totals['slow'] * 1e3:.1f} ms ({megabytes / totals['slow']:.1f} MB/s, "
        f"{totals['entries'] / totals['slow']:.0f} entries/s); parse_feed "
        f"{totals['fast'] * 1e3:.1f} ms ({megabytes / totals['fast']:.1f} MB/s, "
        f"{totals['entries'] / totals['fast']:.0f} entries/s); "
        f"speed-up {totals['slow'] / totals['fast']:.1f}x"
    )


if __name__ == "__main__":
    main()
