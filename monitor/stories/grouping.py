"""Which story a new article belongs to: a pure decision over the articles stored near it.

An article joins the story of a stored article published within the window when it is a copy
of it (the shingle signatures agree on at least ``duplicate_similarity``) or surely reports the
same event: the cosine similarity of their title and lead terms, each weighted by how rare it
is among stored articles (and more in the headline), plus the event evidence they share
(``evidence.py``: action, figures and dates, time apart) and the corroboration of the story's
other close articles, reaches ``event_similarity``. Two headlines with different numbers
("attacked 55 times", "57 times") are never the same event, nor are a reaction ("Iraq condemns
US strikes") and what it reacts to, nor two headlines whose actions differ. Between
``related_similarity`` and ``event_similarity`` the article starts a story of its own, marked as
likely the same event as the closest story: it alerts, as a follow-up. The decision keeps the
closest article and what they share, so an operator can see why two articles were, or were
not, grouped.
"""

from __future__ import annotations

import math
from collections import Counter
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, replace
from datetime import datetime, timedelta
from typing import Literal

from monitor.records import StoryFingerprint
from monitor.stories.evidence import Agreement, agreement
from monitor.stories.fingerprint import band_keys, duplicate_similarity, term_key
from monitor.stories.settings import StorySettings
from monitor.stories.terms import is_reaction

Reason = Literal["new", "duplicate", "event", "related"]
Weights = Callable[[str], float]
_SHOWN_TERMS = 8
# An article is looked up by its headline terms, its names and the rarest of its lead terms:
# another report of the same event shares some of them. The lead's common words would only
# bring back more of the window. A shared LSH band outranks any term: it means a likely copy.
LOOKUP_TERMS = 16
_BAND_WEIGHT = 1000.0
PRIOR_ARTICLES = 1000


@dataclass(frozen=True, slots=True)
class Candidate:
    """A stored article near the new one in time, with its story."""

    article_id: int
    story_id: int
    at: datetime
    fingerprint: StoryFingerprint


@dataclass(frozen=True, slots=True)
class Decision:
    """Where an article goes and why: the story it joins (None: a new one), the closest stored
    article, their similarity and the terms that weighed most in it."""

    story_id: int | None
    reason: Reason
    similarity: float = 0.0
    article_id: int | None = None
    shared: tuple[str, ...] = ()
    # A new story likely about the same event as this one: the article alerts, marked so.
    related_story_id: int | None = None


def rarity(document_counts: Mapping[str, int], total: int) -> Weights:
    """A term's weight: its inverse document frequency among ``total`` stored articles and
    ``PRIOR_ARTICLES`` imagined ones that have none of the terms. Without that prior a young
    store would count a term shared by two articles as common merely because both have it."""
    articles = total + PRIOR_ARTICLES + 1

    def weight(term: str) -> float:
        return math.log(articles / (document_counts.get(term, 0) + 1))

    return weight


def event_similarity(
    a: StoryFingerprint, b: StoryFingerprint, weight: Weights, title_weight: float
) -> float:
    """Cosine similarity of the two articles' weighted title and lead terms."""
    return _cosine(_vector(a, weight, title_weight), _vector(b, weight, title_weight))


def _vector(print_: StoryFingerprint, weight: Weights, title_weight: float) -> dict[str, float]:
    return {
        term: weight(term) * (title_weight if term in print_.title_terms else 1.0)
        for term in print_.terms
    }


def _cosine(left: Mapping[str, float], right: Mapping[str, float]) -> float:
    norms = math.sqrt(sum(v * v for v in left.values()) * sum(v * v for v in right.values()))
    if not norms:
        return 0.0
    if len(right) < len(left):
        left, right = right, left
    return sum(value * right[term] for term, value in left.items() if term in right) / norms


def _cosine_to(
    vector: Mapping[str, float],
    norm: float,
    print_: StoryFingerprint,
    weight: Weights,
    known: dict[str, float],
    title_weight: float,
) -> float:
    """``_cosine(vector, _vector(print_, ...))`` without building the second vector, with the
    weights found so far in ``known``: the decision compares every candidate, and this is most
    of its time."""
    dot = squares = 0.0
    for term in print_.terms:
        value = known.get(term)
        if value is None:
            value = known[term] = weight(term)
        if term in print_.title_terms:
            value *= title_weight
        squares += value * value
        if term in vector:
            dot += value * vector[term]
    return dot / (norm * math.sqrt(squares)) if norm and squares else 0.0


def _remembered(weight: Weights, known: dict[str, float]) -> Weights:
    def remembered(term: str) -> float:
        value = known.get(term)
        if value is None:
            value = known[term] = weight(term)
        return value

    return remembered


def lookup_keys(print_: StoryFingerprint, weight: Weights) -> dict[int, float]:
    """The keys to look an article up by, each with what a match on it is worth."""
    lead = print_.terms - print_.title_terms - print_.names
    rarest = sorted(lead, key=lambda term: (-weight(term), term))[:LOOKUP_TERMS]
    looked_up = print_.title_terms | print_.names | set(rarest)
    keys = {term_key(term): weight(term) for term in looked_up}
    keys.update(dict.fromkeys(band_keys(print_), _BAND_WEIGHT))
    return keys


def closest_articles(
    postings: Iterable[tuple[int, int]], keys: Mapping[int, float], limit: int
) -> list[int]:
    """The ``limit`` articles whose (key, article) postings weigh most against ``keys``."""
    scores: dict[int, float] = {}
    for key, article_id in postings:
        scores[article_id] = scores.get(article_id, 0.0) + keys.get(key, 0.0)
    return sorted(scores, key=lambda article_id: (-scores[article_id], article_id))[:limit]


def shared_terms(a: StoryFingerprint, b: StoryFingerprint, weight: Weights) -> tuple[str, ...]:
    """The terms two articles share, rarest first."""
    shared = sorted(a.terms & b.terms, key=lambda term: (-weight(term), term))
    return tuple(shared[:_SHOWN_TERMS])


def numbers_differ(a: StoryFingerprint, b: StoryFingerprint) -> bool:
    """Both headlines carry numbers and none agrees: a different count, a different event."""
    return bool(a.numbers and b.numbers and not a.numbers & b.numbers)


def one_reacts(a: StoryFingerprint, b: StoryFingerprint) -> bool:
    """One headline reports a reaction and the other does not: "Iraq condemns US strikes" is
    not another report of "US strikes militias in Iraq", however many words they share."""
    return is_reaction(a.title_terms) != is_reaction(b.title_terms)


def decide(
    new: StoryFingerprint,
    at: datetime,
    candidates: Iterable[Candidate],
    weight: Weights,
    settings: StorySettings,
) -> Decision:
    """The story ``new``, published at ``at``, belongs to among ``candidates``: the story of
    a copy, else of the surest report of the same event; else a new story, marked as likely
    related to the closest one when their evidence is in the middle zone."""
    window = timedelta(hours=settings.window_hours)
    known: dict[str, float] = {}
    weight = _remembered(weight, known)
    new_vector = _vector(new, weight, settings.title_weight)
    new_norm = math.sqrt(sum(value * value for value in new_vector.values()))
    copy: tuple[float, Candidate] | None = None
    closest: tuple[float, Candidate] | None = None
    # Per story: its closest article, and how many of its articles are at least related.
    stories: dict[int, tuple[float, Candidate]] = {}
    related_articles: Counter[int] = Counter()
    for candidate in candidates:
        theirs = candidate.fingerprint
        if abs(at - candidate.at) > window or numbers_differ(new, theirs):
            continue
        duplicate = duplicate_similarity(new.signature, theirs.signature)
        if duplicate >= settings.duplicate_similarity and (copy is None or duplicate > copy[0]):
            copy = (duplicate, candidate)
        similarity = _cosine_to(new_vector, new_norm, theirs, weight, known, settings.title_weight)
        shared_names = sum(weight(name) for name in _all_names(new) & _all_names(theirs))
        evidence = _agreement(new, at, candidate, shared_names, settings)
        score = similarity + evidence.score
        if closest is None or score > closest[0]:
            closest = (score, candidate)
        if evidence.conflict or one_reacts(new, theirs):
            continue
        if score >= settings.related_similarity:
            related_articles[candidate.story_id] += 1
        best = stories.get(candidate.story_id)
        if best is None or score > best[0]:
            stories[candidate.story_id] = (score, candidate)
    # Several of a story's articles close to the new one corroborate each other.
    scored = sorted(
        (
            (score + settings.corroboration_weight * _corroborating(related_articles[story]), found)
            for story, (score, found) in stories.items()
        ),
        key=lambda pair: (-pair[0], pair[1].article_id),
    )
    event = scored[0] if scored and scored[0][0] >= settings.event_similarity else None
    related = scored[0] if scored and scored[0][0] >= settings.related_similarity else None
    if copy is not None:
        return _joined("duplicate", copy, new, at, weight, settings)
    if event is not None:
        return _joined("event", event, new, at, weight, settings)
    if related is not None:
        found = _joined("related", related, new, at, weight, settings)
        return replace(found, story_id=None, related_story_id=found.story_id)
    if closest is not None:
        return replace(_joined("new", closest, new, at, weight, settings), story_id=None)
    return Decision(story_id=None, reason="new")


def _corroborating(close_articles: int) -> int:
    """How many of a story's articles beyond its closest one are close too (up to three)."""
    return min(max(close_articles - 1, 0), 3)


def _all_names(print_: StoryFingerprint) -> frozenset[str]:
    return print_.names | print_.text_names


def _agreement(
    new: StoryFingerprint,
    at: datetime,
    candidate: Candidate,
    shared_names: float,
    settings: StorySettings,
) -> Agreement:
    theirs = candidate.fingerprint
    return agreement(
        (new.actions, new.figures, at),
        (theirs.actions, theirs.figures, candidate.at),
        shared_names,
        renewed=(new.renewed and at > candidate.at) or (theirs.renewed and candidate.at > at),
        action_weight=settings.action_weight,
        figure_weight=settings.figure_weight,
        names_weight=settings.names_weight,
        day_penalty=settings.day_penalty,
    )


def _joined(
    reason: Reason,
    best: tuple[float, Candidate],
    new: StoryFingerprint,
    at: datetime,
    weight: Weights,
    settings: StorySettings,
) -> Decision:
    score, candidate = best
    theirs = candidate.fingerprint
    shared_names = sum(weight(name) for name in _all_names(new) & _all_names(theirs))
    evidence = _agreement(new, at, candidate, shared_names, settings)
    return Decision(
        story_id=candidate.story_id,
        reason=reason,
        similarity=round(score, 4),
        article_id=candidate.article_id,
        shared=shared_terms(new, theirs, weight) + evidence.facts,
    )
