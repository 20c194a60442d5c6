"""How well articles are grouped into stories, what a user receives, and how fast.

Replays ``../shared/data/relevance/dev-2023.jsonl`` in publication order (its day files, each
day's entries spread evenly over the day in file order) through ``Store.save_article`` on an
empty database (``--database``, SQLite by default; ``none`` for the in-memory index only) with
the configured ``[stories]`` settings, and scores the ``core`` and ``related`` items against
two label files: ``events-2023.tsv`` beside the data (independent labels, made without the
grouping code) and the project's own ``bench/story_events.tsv`` (a second opinion). Printed for
each: the share of same-event articles in their event's main story, the pairs of different
events put in one story (each silences an alert), and the alerts a user receives per event,
full alerts and marked follow-ups ("likely the same story as …") apart; then the curve over
``event_similarity`` (in memory, which the database path must match pair for pair), with the
default marked, and the same figures on two halves of the events, each half's threshold chosen
on the other half.

Then the speed: the dev and background entries, repeated a year apart per copy, are grouped
one after another until ``--stored`` articles are stored, timing each tenth; with a database,
``Store.save_article`` is timed on a store filled with as many.

With ``--search N``, N settings are drawn and each half of the independent labels' events
chooses one, scored on the other half (``bench/story_search.py``): how the defaults were chosen.

Usage: python bench/stories.py [--config config/monitor.toml] [--data DIR] [--show 10]
           [--stored 100000] [--database sqlite|postgres|none] [--batch 500] [--search 40]
"""

from __future__ import annotations

import argparse
import sys
import time
from collections import Counter
from collections.abc import Iterator
from datetime import datetime, timedelta
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))  # for bench.*

from bench.story_scores import (  # noqa: E402  (after the path is set)
    AUSTIN_EVENTS,
    Item,
    MemoryIndex,
    Placed,
    Scores,
    folds,
    measure,
    print_of,
    read,
    read_events,
    replay,
)
from monitor.settings import load_settings  # noqa: E402
from monitor.stories.fingerprint import fingerprint  # noqa: E402
from monitor.stories.settings import StorySettings  # noqa: E402
from monitor.text.html import html_to_text  # noqa: E402

DATA = ROOT.parent / "shared" / "data" / "relevance"
LABELS = {
    "events-2023.tsv (independent)": DATA / "events-2023.tsv",
    "story_events.tsv (own)": ROOT / "bench" / "story_events.tsv",
}
THRESHOLDS = (0.29, 0.31, 0.33, 0.35, 0.37, 0.39, 0.41, 0.44, 0.48)
Events = dict[str, tuple[str, str]]


def line(found: Scores) -> str:
    return (
        f"share {found.share:.3f}  merged {len(found.wrong_events):>2} "
        f"({len(found.follow_ups)} follow-ups)  alerts/event {found.per_event(found.full):.2f} "
        f"full + {found.per_event(found.marked):.2f} marked "
        f"[events of 2+: {found.per_event(found.full, found.multi_events):.2f} + "
        f"{found.per_event(found.marked, found.multi_events):.2f}]"
    )


def score(items: list[Item], placed: dict[str, Placed], events: Events, show: int) -> Scores:
    found = measure(items, placed, events)
    by_id = {item.id: item for item in items}
    print(
        f"  {found.events} events ({found.multi} of 2+ articles); "
        f"{len({placed[i].story for i in events if i in placed})} stories"
    )
    austin = next((ids for ids in _members(events).values() if _is_austin(events[ids[0]][0])), [])
    stories = Counter(placed[i].story for i in austin)
    (main, count), *_ = stories.most_common() or [(None, 0)]
    others = sum(1 for i in events if i in placed and placed[i].story == main) - count
    alerts = sum(found.full[events[i][0]] + found.marked[events[i][0]] for i in austin[:1])
    print(
        f"  7 March 2023 visit: {len(austin)} articles in {len(stories)} story(ies), the main "
        f"one holding {count} and {others} labelled article(s) of other events; "
        f"{alerts} alert(s)   target: one story of 8, one alert"
    )
    print(f"  {line(found)}")
    print(
        f"  marked follow-ups pointing at another event's story: {found.marked_wrong}; events "
        f"with no alert at all (silenced): {len(found.silenced)}"
    )
    for pair in found.wrong_events[:show]:
        kind = "follow-up" if pair in found.follow_ups else "UNRELATED"
        a, b = found.samples[pair]
        print(f"    merged {kind:<9} {pair[0]}  +  {pair[1]}")
        print(f"        {by_id[a].title[:90]}\n        {by_id[b].title[:90]}")
    return found


def _members(events: Events) -> dict[str, list[str]]:
    members: dict[str, list[str]] = {}
    for item, (event, _) in events.items():
        members.setdefault(event, []).append(item)
    return members


def _is_austin(event: str) -> bool:
    return event.startswith(AUSTIN_EVENTS)


def sweep(
    items: list[Item], settings: StorySettings, labels: dict[str, Events]
) -> dict[float, dict[str, dict[str, Scores]]]:
    """The trade-off ``event_similarity`` sets, the related zone kept as wide as configured."""
    width = settings.event_similarity - settings.related_similarity
    curve: dict[float, dict[str, dict[str, Scores]]] = {}
    print(
        "\nthe curve (event_similarity; related_similarity kept "
        f"{width:.2f} below; other settings as configured):"
    )
    for threshold in sorted({*THRESHOLDS, settings.event_similarity}):
        changed = settings.model_copy(
            update={
                "event_similarity": threshold,
                "related_similarity": round(max(threshold - width, 0.01), 3),
            }
        )
        placed = replay(items, changed)
        curve[threshold] = {}
        for name, events in labels.items():
            halves = folds(events)
            curve[threshold][name] = {
                "all": measure(items, placed, events),
                **{
                    f"half {n}": measure(items, placed, events, half)
                    for n, half in enumerate(halves)
                },
            }
        mark = " <- default" if threshold == settings.event_similarity else ""
        for name in labels:
            print(f"  {threshold:.2f} {name[:14]:<14} {line(curve[threshold][name]['all'])}{mark}")
    return curve


def held_out(curve: dict[float, dict[str, dict[str, Scores]]], name: str) -> None:
    """Each half's threshold chosen on the other half (most grouped with at most one pair of
    different events merged per half), scored on the half it was not chosen on."""
    print(
        f"\nheld out, {name}: the threshold chosen on one half of the events, scored on the other"
    )
    for tuned, scored in (("half 0", "half 1"), ("half 1", "half 0")):
        allowed = [t for t in curve if len(curve[t][name][tuned].wrong_events) <= 1]
        best = max(allowed or curve, key=lambda t: (curve[t][name][tuned].share, -t))
        print(f"  chosen on {tuned}: {best:.2f}; on {scored}: {line(curve[best][name][scored])}")


def stream(items: list[Item], total: int) -> Iterator[tuple[int, Item, datetime]]:
    """``total`` items: copies of ``items`` a year apart, in time order."""
    for number in range(total):
        copy, position = divmod(number, len(items))
        item = items[position]
        yield number, item, item.at + timedelta(days=366 * copy)


def speed(items: list[Item], settings: StorySettings, total: int) -> None:
    prints = {}
    started = time.perf_counter()
    for item in items:
        prints[item.id] = print_of(item, settings)
    per_print = (time.perf_counter() - started) / len(items)
    print(
        f"\nfingerprints: {1 / per_print:,.0f}/s (title + summary; a 600-word article takes "
        f"{long_fingerprint_ms():.2f} ms)"
    )
    index = MemoryIndex(settings)
    tenth = max(total // 10, 1)
    started = time.perf_counter()
    print(f"grouping {total:,} articles, {len(items):,} distinct entries repeated a year apart:")
    for number, item, at in stream(items, total):
        index.place(number, prints[item.id], at)
        if (number + 1) % tenth == 0:
            elapsed = time.perf_counter() - started
            print(
                f"  stored {number + 1 - tenth:>7,} to {number + 1:>7,}: "
                f"{tenth / elapsed:>7,.0f} articles/s, {elapsed / tenth * 1e6:,.0f} µs each"
            )
            started = time.perf_counter()
    print("  target >= 2,000/s with 100k stored, flat as the store grows")


def long_fingerprint_ms() -> float:
    words = (ROOT / "tests" / "fixtures" / "seed-article.html").read_text(encoding="utf-8")
    text = " ".join(html_to_text(words).split()[:600])
    started = time.perf_counter()
    for _ in range(50):
        fingerprint("A headline", text)
    return (time.perf_counter() - started) / 50 * 1000


def main() -> None:
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--config", type=Path, default=ROOT / "config" / "monitor.toml")
    parser.add_argument("--data", type=Path, default=DATA)
    parser.add_argument("--show", type=int, default=10, help="how many merged event pairs to list")
    parser.add_argument("--stored", type=int, default=100_000, help="0: skip the speed")
    parser.add_argument("--database", choices=["none", "sqlite", "postgres"], default="sqlite")
    parser.add_argument("--batch", type=int, default=500)
    parser.add_argument(
        "--search", type=int, default=0, help="draw N settings and cross-validate the choice"
    )
    args = parser.parse_args()

    from bench.poll import pin

    pin(0)  # one core, as the target says
    settings = load_settings(args.config).stories
    dev = read(args.data / "dev-2023.jsonl")
    labels = {name: read_events(path) for name, path in LABELS.items()}
    print(f"settings: {settings.model_dump()}")
    in_memory = replay(dev, settings)
    placed = in_memory
    if args.database != "none":
        from bench.stories_db import database_agreement

        placed = database_agreement(dev, settings, args.database, in_memory)
    where = (
        "in memory" if args.database == "none" else f"through Store.save_article on {args.database}"
    )
    for name, events in labels.items():
        print(f"\n{name}, default settings, {where}:")
        score(dev, placed, events, args.show)
    curve = sweep(dev, settings, labels)
    for name in labels:
        held_out(curve, name)
    if args.search:
        from bench.story_search import search

        search(dev, labels[next(iter(labels))], settings, args.search)
    if args.stored:
        everything = sorted(dev + read(args.data / "background-2023.jsonl"), key=lambda i: i.at)
        speed(everything, settings, args.stored)
        if args.database != "none":
            from bench.stories_db import database_speed

            database_speed(everything, settings, args.stored, args.batch, args.database)


if __name__ == "__main__":
    main()
