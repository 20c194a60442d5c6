"""Story decisions for a batch of new articles stored in one transaction: each article is
decided as if every earlier article of the batch had been stored before it, so a batch groups
exactly as the same articles saved one by one would.

The database is read once per batch, not once per article: the term counts of the batch, the
postings of every key it looks up, and the fingerprints of the closest stored articles. The
articles of the batch are candidates for the ones after them, and each one counts its terms
before the next is weighed. Pure functions; ``store/stories.py`` reads and writes.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta

from monitor.records import StoryFingerprint
from monitor.stories.fingerprint import index_keys
from monitor.stories.grouping import (
    Candidate,
    Decision,
    closest_articles,
    decide,
    lookup_keys,
    rarity,
)
from monitor.stories.settings import StorySettings


@dataclass(frozen=True, slots=True)
class Arrival:
    """A new article of the batch, already inserted: its id, fingerprint and time."""

    article_id: int
    fingerprint: StoryFingerprint | None
    at: datetime


@dataclass(frozen=True, slots=True)
class Posting:
    """A stored article filed under a lookup key at a time."""

    key: int
    at: datetime
    article_id: int


@dataclass(frozen=True, slots=True)
class Placed:
    """Where an arrival goes: a stored story (its id), or a new story of the batch (a
    negative number, the same for every arrival that joins it)."""

    arrival: Arrival
    story: int
    decision: Decision

    @property
    def new_story(self) -> bool:
        return self.story < 0 and self.decision.story_id is None


class _Counts:
    """Term counts as the database has them, plus the arrivals counted so far."""

    def __init__(self, stored: Mapping[str, int], total: int) -> None:
        self.counts, self.total = dict(stored), total

    def add(self, print_: StoryFingerprint) -> None:
        for term in print_.terms:
            self.counts[term] = self.counts.get(term, 0) + 1
        self.total += 1


def batch_terms(arrivals: Iterable[Arrival]) -> set[str]:
    """Every term the batch weighs before its candidates are known."""
    return {term for a in arrivals if a.fingerprint is not None for term in a.fingerprint.terms}


def lookups(
    arrivals: Sequence[Arrival], counts: Mapping[str, int], total: int
) -> list[dict[int, float]]:
    """Each arrival's lookup keys with their worth, weighed with the arrivals before it
    counted (an arrival without a fingerprint looks nothing up)."""
    running = _Counts(counts, total)
    found: list[dict[int, float]] = []
    for arrival in arrivals:
        if arrival.fingerprint is None:
            found.append({})
            continue
        found.append(lookup_keys(arrival.fingerprint, rarity(running.counts, running.total)))
        running.add(arrival.fingerprint)
    return found


def closest(
    arrivals: Sequence[Arrival],
    keys: Sequence[Mapping[int, float]],
    stored: Iterable[Posting],
    settings: StorySettings,
) -> list[list[int]]:
    """Each arrival's closest articles, stored or earlier in the batch, by the postings of
    its keys within the window (as one lookup per article would find them)."""
    window = timedelta(hours=settings.window_hours)
    by_key: dict[int, list[tuple[datetime, int]]] = {}
    for posting in stored:
        by_key.setdefault(posting.key, []).append((posting.at, posting.article_id))
    found: list[list[int]] = []
    for arrival, wanted in zip(arrivals, keys, strict=True):
        postings = [
            (key, article_id)
            for key in wanted
            for at, article_id in by_key.get(key, ())
            if arrival.at - window <= at <= arrival.at + window
        ]
        found.append(closest_articles(postings, wanted, settings.max_candidates))
        if arrival.fingerprint is not None:
            for key in index_keys(arrival.fingerprint):
                by_key.setdefault(key, []).append((arrival.at, arrival.article_id))
    return found


def place(
    arrivals: Sequence[Arrival],
    closest_ids: Sequence[Sequence[int]],
    stored: Mapping[int, Candidate],
    counts: Mapping[str, int],
    total: int,
    settings: StorySettings,
) -> list[Placed]:
    """Decide each arrival's story in order: ``stored`` holds the stored candidates (with their
    stories), ``counts`` the stored counts of every term weighed (the batch's and the
    candidates')."""
    running = _Counts(counts, total)
    ours: dict[int, Candidate] = {}
    placed: list[Placed] = []
    for arrival, ids in zip(arrivals, closest_ids, strict=True):
        print_ = arrival.fingerprint
        decision = Decision(story_id=None, reason="new")
        if print_ is not None:
            candidates = [c for i in ids if (c := ours.get(i) or stored.get(i)) is not None]
            weight = rarity(running.counts, running.total)
            decision = decide(print_, arrival.at, candidates, weight, settings)
        story = decision.story_id if decision.story_id is not None else -(len(placed) + 1)
        placed.append(Placed(arrival=arrival, story=story, decision=decision))
        if print_ is not None:
            ours[arrival.article_id] = Candidate(arrival.article_id, story, arrival.at, print_)
            running.add(print_)
    return placed
