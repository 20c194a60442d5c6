"""Decide whether a text is about a topic: terms on word boundaries, a score and a threshold."""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterable
from dataclasses import dataclass

from monitor.records import TopicMatch
from monitor.settings import TopicSettings

TITLE_WEIGHT = 2.0
BODY_WEIGHT = 1.0

_ACRONYM = re.compile(r"^[A-Z][A-Z0-9.&-]*[A-Z0-9.]$")
_QUOTES = str.maketrans(
    {"’": "'", "‘": "'", "“": '"', "”": '"', "‐": "-", "‑": "-", "–": "-", "—": "-", "\u00a0": " "}
)


def normalise(text: str) -> str:
    """Fold typographic quotes, dashes and Unicode forms: terms match however a site typed them."""
    return unicodedata.normalize("NFKC", text).translate(_QUOTES)


@dataclass(frozen=True, slots=True)
class TermSet:
    """Terms found on word boundaries; acronyms (``US``, ``HMC``) match only in capitals."""

    terms: tuple[str, ...]
    keys: tuple[str, ...]  # how each term looks once a match is folded, for mapping hits back
    folded: re.Pattern[str] | None
    exact: re.Pattern[str] | None

    @classmethod
    def of(cls, terms: Iterable[str]) -> TermSet:
        terms = tuple(dict.fromkeys(normalise(term).strip() for term in terms))
        acronyms = [term for term in terms if _ACRONYM.match(term)]
        words = [term for term in terms if term not in acronyms]
        return cls(
            terms=terms,
            keys=tuple(_key(term, fold=term not in acronyms) for term in terms),
            folded=_pattern(words, re.IGNORECASE),
            exact=_pattern(acronyms, 0),
        )

    def found(self, text: str) -> list[str]:
        """The terms present in ``text`` (already normalised), in the order of the term list."""
        hits: set[str] = set()
        if self.folded is not None:
            hits.update(_key(match) for match in self.folded.findall(text))
        if self.exact is not None:
            hits.update(_key(match, fold=False) for match in self.exact.findall(text))
        if not hits:
            return []
        return [term for term, key in zip(self.terms, self.keys, strict=True) if key in hits]


def _key(text: str, *, fold: bool = True) -> str:
    joined = " ".join(text.split())
    return joined.casefold() if fold else joined


def _pattern(terms: list[str], flags: int) -> re.Pattern[str] | None:
    if not terms:
        return None
    # Longest first, so "US troops" wins over "US" at the same place.
    alternatives = [
        r"\s+".join(re.escape(word) for word in term.split())
        for term in sorted(terms, key=len, reverse=True)
    ]
    return re.compile(r"(?<!\w)(" + "|".join(alternatives) + r")(?!\w)", flags)


@dataclass(frozen=True, slots=True)
class Topic:
    """A compiled topic: every ``all_of`` group must fire, ``any_of`` terms add to the score and
    any ``none_of`` term vetoes the match."""

    name: str
    groups: tuple[TermSet, ...]
    scoring: TermSet
    exclusions: TermSet
    threshold: float

    @classmethod
    def from_settings(cls, settings: TopicSettings) -> Topic:
        return cls(
            name=settings.name,
            groups=tuple(TermSet.of(group) for group in settings.all_of),
            scoring=TermSet.of(settings.any_of),
            exclusions=TermSet.of(settings.none_of),
            threshold=settings.threshold,
        )

    def all_terms(self) -> TermSet:
        """Every positive term of the topic, for picking the sentences that carry it."""
        return TermSet.of(
            [term for group in self.groups for term in group.terms] + list(self.scoring.terms)
        )


def match_topic(topic: Topic, title: str, body: str) -> TopicMatch:
    """Score ``title`` and ``body`` against ``topic``; a term in the title weighs double."""
    title, body = normalise(title), normalise(body)
    both = f"{title}\n{body}"
    if topic.exclusions.terms and topic.exclusions.found(both):
        return TopicMatch(topic=topic.name, matched=False, score=0.0)
    fired: list[str] = []
    groups_ok = True
    for group in topic.groups:
        found = group.found(both)
        groups_ok = groups_ok and bool(found)
        fired.extend(found)
    in_title = set(topic.scoring.found(title))
    in_body = set(topic.scoring.found(body))
    score = sum(TITLE_WEIGHT if term in in_title else BODY_WEIGHT for term in in_title | in_body)
    fired.extend(term for term in topic.scoring.terms if term in in_title or term in in_body)
    return TopicMatch(
        topic=topic.name,
        matched=groups_ok and score >= topic.threshold,
        score=score,
        terms=tuple(dict.fromkeys(fired)),
    )
