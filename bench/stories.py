"""How well articles are grouped into stories, and how fast, on real feed entries.

Replays ``../shared/data/relevance/dev-2023.jsonl`` in publication order (its day files, each
day's entries spread evenly over the day in file order) through the story grouping with the
configured ``[stories]`` settings, and scores the ``core`` and ``related`` items against the
hand-labelled events of ``bench/story_events.tsv`` (the file says how they were made): stories
against events, the 7 March 2023 Baghdad visit, the share of same-event articles grouped, and
every pair of different events put in one story (a sample is printed). Then the same for a
range of ``event_similarity`` thresholds: the trade-off an operator chooses from.

Then the speed: the dev and background entries, repeated a year apart per copy, are grouped
one after another until ``--stored`` articles are stored, timing each tenth; the lookup is an
in-memory index with the same keys, windows and candidates as the database's. With
``--database sqlite|postgres`` the database path is timed too: a store filled with the same
articles, then ``Store.save_article`` (lookup, decision, article, story, alerts: one
transaction) for ``--batch`` more.

Usage: python bench/stories.py [--config config/monitor.toml] [--data DIR] [--show 25]
           [--stored 100000] [--database none|sqlite|postgres] [--batch 500]
"""

from __future__ import annotations

import argparse
import bisect
import csv
import itertools
import json
import sys
import time
from collections import Counter, defaultdict
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path

from monitor.records import StoryFingerprint
from monitor.settings import load_settings
from monitor.stories.fingerprint import fingerprint, index_keys
from monitor.stories.grouping import (
    Candidate,
    Decision,
    closest_articles,
    decide,
    lookup_keys,
    rarity,
)
from monitor.stories.settings import StorySettings
from monitor.text.html import html_to_text

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))  # for bench.stories_db
DATA = ROOT.parent / "shared" / "data" / "relevance"
EVENTS = ROOT / "bench" / "story_events.tsv"
AUSTIN = "2023-03-07 Austin's unannounced visit to Baghdad"


@dataclass
class Item:
    id: str
    title: str
    text: str
    feed: str
    at: datetime
    label: str


def read(path: Path) -> list[Item]:
    """Entries in publication order: by day file, then spread evenly over the day."""
    with path.open(encoding="utf-8") as file:
        raw = [json.loads(line) for line in file if line.strip()]
    raw.sort(key=lambda entry: entry["day_file"])  # stable: file order within a day
    items = []
    for day, group in itertools.groupby(raw, key=lambda entry: entry["day_file"]):
        entries = list(group)
        start = datetime.fromisoformat(day).replace(tzinfo=UTC)
        for number, entry in enumerate(entries):
            items.append(
                Item(
                    id=entry["id"],
                    title=html_to_text(entry["title"]),
                    text=html_to_text(entry.get("description") or ""),
                    feed=entry["feed"],
                    at=start + timedelta(hours=24 * number / len(entries)),
                    label=entry.get("label", "no"),
                )
            )
    return items


def read_events(path: Path) -> dict[str, tuple[str, str]]:
    """Item id → (event, the event it follows)."""
    with path.open(encoding="utf-8") as file:
        rows = csv.DictReader((line for line in file if not line.startswith("#")), delimiter="\t")
        return {row["id"]: (row["event"], row["follows"]) for row in rows}


class MemoryIndex:
    """The database's story index in memory: postings by key kept in time order (as the
    (key, at) primary key keeps them), term counts, and every article's fingerprint."""

    def __init__(self, settings: StorySettings) -> None:
        self.settings = settings
        self.times: dict[int, list[float]] = defaultdict(list)
        self.ids: dict[int, list[int]] = defaultdict(list)
        self.stored: dict[int, tuple[int, datetime, StoryFingerprint]] = {}
        self.counts: Counter[str] = Counter()
        self.total = 0

    def place(self, article_id: int, print_: StoryFingerprint, at: datetime) -> Decision:
        weight = rarity(self.counts, self.total)
        keys = lookup_keys(print_, weight)
        window = self.settings.window_hours * 3600
        moment = at.timestamp()
        postings = []
        for key in keys:
            times = self.times.get(key)
            if not times:
                continue
            low = bisect.bisect_left(times, moment - window)
            high = bisect.bisect_right(times, moment + window)
            postings += [(key, found) for found in self.ids[key][low:high]]
        closest = closest_articles(postings, keys, self.settings.max_candidates)
        candidates = [Candidate(a, *self.stored[a]) for a in closest]
        decision = decide(print_, at, candidates, weight, self.settings)
        story = decision.story_id if decision.story_id is not None else article_id
        self.stored[article_id] = (story, at, print_)
        for key in index_keys(print_):
            self.times[key].append(moment)  # items arrive in time order
            self.ids[key].append(article_id)
        self.counts.update(print_.terms)
        self.total += 1
        return decision


def replay(items: list[Item], settings: StorySettings) -> dict[str, int]:
    """Item id → story (the id of its first article's position)."""
    index = MemoryIndex(settings)
    stories: dict[str, int] = {}
    positions: dict[int, str] = {}
    for number, item in enumerate(items):
        print_ = fingerprint(item.title, item.text, lead_words=settings.lead_words)
        decision = index.place(number, print_, item.at)
        positions[number] = item.id
        stories[item.id] = decision.story_id if decision.story_id is not None else number
    return stories


@dataclass
class Scores:
    """The labelled items' stories against their events."""

    members: dict[str, list[str]]  # event → its item ids
    grouped: int  # per event, the most of its articles that share one story; summed
    in_multi: int  # articles of events with more than one article
    multi: int  # such events
    not_alone: int  # articles sharing a story with a same-event article within 48 h
    with_mates: int  # articles with a same-event article within 48 h
    together: int  # same-event pairs within 48 h in one story
    pairs: int  # same-event pairs within 48 h
    wrong: list[tuple[str, str]]  # article pairs of different events in one story
    wrong_events: list[tuple[str, str]]
    follow_ups: list[tuple[str, str]]

    @property
    def share(self) -> float:
        return self.grouped / max(self.in_multi, 1)


def measure(
    items: list[Item], stories: dict[str, int], events: dict[str, tuple[str, str]]
) -> Scores:
    labelled = [item for item in items if item.id in events]
    by_id = {item.id: item for item in items}
    event_of = {item.id: events[item.id][0] for item in labelled}
    follows = {item.id: events[item.id][1] for item in labelled}
    members: dict[str, list[str]] = defaultdict(list)
    for item in labelled:
        members[event_of[item.id]].append(item.id)
    multi = [ids for ids in members.values() if len(ids) > 1]
    near = timedelta(hours=48)
    mates = {
        a: [b for b in members[event_of[a]] if b != a and abs(by_id[a].at - by_id[b].at) <= near]
        for a in event_of
    }
    same = [(a, b) for a in mates for b in mates[a] if a < b]
    wrong = [
        (a, b)
        for a, b in itertools.combinations([item.id for item in labelled], 2)
        if stories[a] == stories[b] and event_of[a] != event_of[b]
    ]
    wrong_events = sorted({_pair(event_of[a], event_of[b]) for a, b in wrong})
    return Scores(
        members=members,
        grouped=sum(max(Counter(stories[i] for i in ids).values()) for ids in multi),
        in_multi=sum(len(ids) for ids in multi),
        multi=len(multi),
        not_alone=sum(1 for a in mates if any(stories[a] == stories[b] for b in mates[a])),
        with_mates=sum(1 for a in mates if mates[a]),
        together=sum(1 for a, b in same if stories[a] == stories[b]),
        pairs=len(same),
        wrong=wrong,
        wrong_events=wrong_events,
        follow_ups=[
            pair for pair in wrong_events if follows_either(pair, follows, event_of, members)
        ],
    )


def _pair(first: str, second: str) -> tuple[str, str]:
    return (first, second) if first <= second else (second, first)


def score(
    items: list[Item], stories: dict[str, int], events: dict[str, tuple[str, str]], show: int
) -> None:
    found = measure(items, stories, events)
    by_id = {item.id: item for item in items}
    labelled = [item for item in items if item.id in events]
    event_of = {item.id: events[item.id][0] for item in labelled}
    austin = found.members[AUSTIN]
    austin_story = Counter(stories[i] for i in austin)
    story_size = Counter(stories.values())
    (main, main_count), *_ = austin_story.most_common()
    print(
        f"labelled items (core, related): {len(labelled)} in {len(found.members)} events; "
        f"{len({stories[item.id] for item in labelled})} stories"
    )
    print(
        f"7 March 2023 visit: {len(austin)} articles in {len(austin_story)} story(ies); "
        f"the largest holds {main_count} of them and {story_size[main] - main_count} other "
        f"article(s)   target: one story of 8"
    )
    joined, joinable = found.grouped - found.multi, found.in_multi - found.multi
    print(
        f"same-event articles grouped     {joined}/{joinable} joined their event's story = "
        f"{joined / max(joinable, 1):.3f}; largest share per event {found.grouped}/"
        f"{found.in_multi} = {found.share:.3f}   target >= 0.9"
    )
    print(
        f"  not alone                     {found.not_alone}/{found.with_mates} share a story "
        f"with some same-event article within 48 h = "
        f"{found.not_alone / max(found.with_mates, 1):.3f}"
    )
    print(
        f"same-event pairs within 48 h    {found.together}/{found.pairs} in one story = "
        f"{found.together / max(found.pairs, 1):.3f}"
    )
    print(
        f"different events merged         {len(found.wrong_events)} event pairs "
        f"({len(found.wrong)} article pairs); {len(found.follow_ups)} of them a reaction or next "
        f"step of the other   target 0"
    )
    for pair in found.wrong_events[:show]:
        kind = "follow-up" if pair in found.follow_ups else "UNRELATED"
        sample = next((a, b) for a, b in found.wrong if _pair(event_of[a], event_of[b]) == pair)
        print(f"  {kind:<9} {pair[0]}  +  {pair[1]}")
        for article in sample:
            print(f"              {by_id[article].title[:100]}")
    unlabelled = Counter(stories[item.id] for item in items if item.id not in events)
    mixed = {stories[item.id] for item in labelled if unlabelled[stories[item.id]]}
    print(f"stories of labelled items that also hold unlabelled ('no') items: {len(mixed)}")


def sweep(items: list[Item], settings: StorySettings, events: dict[str, tuple[str, str]]) -> None:
    """The trade-off the event threshold sets: more grouping, more different events merged."""
    print("\nthe trade-off (event_similarity, with names 0.1 lower; other settings as configured):")
    for threshold in (0.25, 0.3, 0.35, 0.4, 0.44, 0.5, 0.6):
        changed = settings.model_copy(
            update={
                "event_similarity": threshold,
                "event_similarity_with_names": round(threshold - 0.1, 2),
            }
        )
        found = measure(items, replay(items, changed), events)
        print(
            f"  {threshold:.2f}: largest share per event {found.share:.3f}, different events "
            f"merged {len(found.wrong_events)} ({len(found.follow_ups)} follow-ups)"
        )


def follows_either(
    pair: tuple[str, str],
    follows: dict[str, str],
    event_of: dict[str, str],
    members: dict[str, list[str]],
) -> bool:
    first, second = pair
    return any(follows[i] == second for i in members[first]) or any(
        follows[i] == first for i in members[second]
    )


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
        prints[item.id] = fingerprint(item.title, item.text, lead_words=settings.lead_words)
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
    parser.add_argument("--events", type=Path, default=EVENTS)
    parser.add_argument("--show", type=int, default=25, help="how many merged event pairs to list")
    parser.add_argument("--stored", type=int, default=100_000)
    parser.add_argument("--database", choices=["none", "sqlite", "postgres"], default="none")
    parser.add_argument("--batch", type=int, default=500)
    args = parser.parse_args()

    from bench.poll import pin

    pin(0)  # one core, as the target says
    settings = load_settings(args.config).stories
    dev = read(args.data / "dev-2023.jsonl")
    events = read_events(args.events)
    print(f"settings: {settings.model_dump()}\n")
    replayed = replay(dev, settings)
    score(dev, replayed, events, args.show)
    sweep(dev, settings, events)
    if args.database != "none":
        from bench.stories_db import database_agreement

        database_agreement(dev, settings, args.database, replayed)
    everything = sorted(dev + read(args.data / "background-2023.jsonl"), key=lambda i: i.at)
    speed(everything, settings, args.stored)
    if args.database != "none":
        from bench.stories_db import database_speed

        database_speed(everything, settings, args.stored, args.batch, args.database)


if __name__ == "__main__":
    main()
