"""Scoring story grouping against labelled events, for ``bench/stories.py``.

The labelled feed entries are replayed in publication order (the in-memory index here, or the
database through ``Store.save_article``), each entry's story and decision kept, and scored as
a user and an operator would judge them: the share of same-event articles in their event's
main story, the pairs of different events put in one story (each silences an alert), and the
alerts a user receives per event. A story alerts once, on its first labelled article (every
labelled item matches the topic); the alert is a marked follow-up when that article was
judged likely related to an earlier story, a full alert otherwise. The alert counts for the
event of that article.
"""

from __future__ import annotations

import bisect
import itertools
import json
from collections import Counter, defaultdict
from collections.abc import Collection
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path

from monitor.records import StoryFingerprint
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

AUSTIN_EVENTS = ("2023-03-07-austin-visits-baghdad", "2023-03-07 Austin's unannounced visit")


@dataclass(frozen=True)
class Item:
    id: str
    title: str
    text: str
    feed: str
    at: datetime
    label: str


@dataclass(frozen=True)
class Placed:
    """Where the replay put an item: its story, and the story it is marked related to."""

    story: int
    related: int | None = None


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
    """Item id → (event, the event it follows), from either label file's layout."""
    events = {}
    with path.open(encoding="utf-8") as file:
        for line in file:
            if line.startswith("#") or not line.strip():
                continue
            item, event, follows, *_ = [*line.rstrip("\n").split("\t"), "", ""]
            if item != "id":
                events[item] = (event, follows)
    return events


def print_of(item: Item, settings: StorySettings) -> StoryFingerprint:
    return fingerprint(item.title, item.text, lead_words=settings.lead_words, at=item.at)


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


def replay(items: list[Item], settings: StorySettings) -> dict[str, Placed]:
    """Item id → where it went (stories named by their first article's position)."""
    index = MemoryIndex(settings)
    placed: dict[str, Placed] = {}
    for number, item in enumerate(items):
        decision = index.place(number, print_of(item, settings), item.at)
        story = decision.story_id if decision.story_id is not None else number
        placed[item.id] = Placed(story, decision.related_story_id)
    return placed


@dataclass
class Scores:
    """The labelled items' stories against their events."""

    events: int
    multi: int  # events with more than one article
    grouped: int  # per such event, the most of its articles that share one story; summed
    in_multi: int  # articles of such events
    wrong_events: list[tuple[str, str]]  # pairs of different events in one story
    follow_ups: list[tuple[str, str]]  # ... of which one follows up on the other
    full: Counter[str]  # event → full alerts its articles sent
    marked: Counter[str]  # event → alerts marked as follow-ups of an earlier story
    marked_wrong: int  # marked follow-ups whose related story is of another event
    silenced: list[str]  # events none of whose articles alerted
    samples: dict[tuple[str, str], tuple[str, str]]  # a merged article pair per event pair
    all_events: list[str]
    multi_events: list[str]

    @property
    def share(self) -> float:
        return self.grouped / max(self.in_multi, 1)

    def per_event(self, counts: Counter[str], events: Collection[str] | None = None) -> float:
        chosen = list(events) if events is not None else self.all_events
        return sum(counts[event] for event in chosen) / max(len(chosen), 1)


def measure(
    items: list[Item],
    placed: dict[str, Placed],
    events: dict[str, tuple[str, str]],
    only: Collection[str] | None = None,
) -> Scores:
    """Score ``placed`` against ``events``; with ``only``, the events scored (the others'
    items count as unlabelled): a held-out fold."""
    every = [item for item in items if item.id in events]
    labelled = [item for item in every if only is None or events[item.id][0] in only]
    event_of = {item.id: events[item.id][0] for item in every}
    follows = {item.id: events[item.id][1] for item in labelled}
    members: dict[str, list[str]] = defaultdict(list)
    for item in labelled:
        members[event_of[item.id]].append(item.id)
    multi = [event for event, ids in members.items() if len(ids) > 1]
    by_story: dict[int, list[str]] = defaultdict(list)
    for item in every:
        by_story[placed[item.id].story].append(item.id)
    # A merged pair counts where either of its events is scored.
    wrong: dict[tuple[str, str], tuple[str, str]] = {}
    for ids in by_story.values():
        for a, b in itertools.combinations(ids, 2):
            if event_of[a] != event_of[b] and (a in follows or b in follows):
                wrong.setdefault(_pair(event_of[a], event_of[b]), (a, b))
    story_event = {story: event_of[ids[0]] for story, ids in by_story.items()}
    full: Counter[str] = Counter()
    marked: Counter[str] = Counter()
    marked_wrong = 0
    for ids in by_story.values():
        first = placed[ids[0]]
        if ids[0] not in follows:
            continue  # its alert is of an event not scored here
        if first.related is None:
            full[event_of[ids[0]]] += 1
            continue
        marked[event_of[ids[0]]] += 1
        if story_event.get(first.related, event_of[ids[0]]) != event_of[ids[0]]:
            marked_wrong += 1
    pairs = sorted(wrong)
    return Scores(
        events=len(members),
        multi=len(multi),
        grouped=sum(max(Counter(placed[i].story for i in members[e]).values()) for e in multi),
        in_multi=sum(len(members[e]) for e in multi),
        wrong_events=pairs,
        follow_ups=[p for p in pairs if _follows_either(p, every, events)],
        full=full,
        marked=marked,
        marked_wrong=marked_wrong,
        silenced=sorted(e for e in members if not full[e] and not marked[e]),
        samples=wrong,
        all_events=sorted(members),
        multi_events=sorted(multi),
    )


def _pair(first: str, second: str) -> tuple[str, str]:
    return (first, second) if first <= second else (second, first)


def _follows_either(
    pair: tuple[str, str], items: list[Item], events: dict[str, tuple[str, str]]
) -> bool:
    """One of the two events is labelled as following up on the other."""
    return any(events[item.id] in (pair, pair[::-1]) for item in items)


def folds(events: dict[str, tuple[str, str]], count: int = 2) -> list[set[str]]:
    """The labelled events split into ``count`` folds of whole events, alternating in date
    order (every label starts with its date), so each fold spans the year."""
    names = sorted({event for event, _ in events.values()})
    return [
        {name for number, name in enumerate(names) if number % count == fold}
        for fold in range(count)
    ]
