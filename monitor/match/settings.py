"""The topic definition language, as validated configuration.

A topic names lists of terms (``[topics.terms]``) and rules over those lists
(``[[topics.rules]]``). A rule fires when every list in ``all`` and at least one list in ``any``
is mentioned within its window (the whole item, the title, one sentence, or N words), every
list in ``also`` is mentioned anywhere in the item, none of the lists in ``none`` is mentioned
in that window (or anywhere in the item, with ``none_within = "item"``), and its score reaches
``min_score``. The
highest level among the rules that fire, ``alert`` or ``digest``, is the item's level.

A topic may also carry ``examples`` and ``counter_examples``: sentences scored by similarity
(see ``monitor.match.semantic``). When no rule alerts, an item that mentions every list in
``require`` and is closer to an example than ``alert_similarity`` (or ``digest_similarity``),
and closer to it than to any counter-example, is raised to that level.
"""

from __future__ import annotations

import re
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

from monitor.records import Level
from monitor.text.tokens import normalise

Window = Literal["item", "title", "sentence"] | int

_NAME = r"^[a-z0-9][a-z0-9_-]*$"
_FORBIDDEN = re.compile(r"[()\[\]{}\"|\\]")
_WORD = re.compile(r"\w+\*?|\*")


class RuleSettings(BaseModel):
    """One rule of a topic; see the module docstring."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    name: str = ""
    level: Level = "alert"
    all: tuple[str, ...] = ()
    any: tuple[str, ...] = ()
    none: tuple[str, ...] = ()
    also: tuple[str, ...] = ()
    within: Window = "item"
    none_within: Literal["window", "item"] = "window"
    min_score: float = Field(default=0, ge=0)

    @field_validator("within")
    @classmethod
    def _positive_words(cls, value: Window) -> Window:
        if isinstance(value, int) and value < 1:
            raise ValueError("within is a number of words (1 or more), or item, title, sentence")
        return value

    @model_validator(mode="after")
    def _needs_lists(self) -> RuleSettings:
        if not self.all and not self.any:
            raise ValueError("a rule needs term lists in 'all' or 'any'")
        return self


# Cosine similarities of WordLlama vectors; see the README's relevance figures for how they fare.
DEFAULT_ALERT_SIMILARITY = 0.7
DEFAULT_DIGEST_SIMILARITY = 0.6


class TopicSettings(BaseModel):
    """A topic: named term lists and the rules that combine them."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    name: str = Field(pattern=_NAME)
    description: str = ""
    title_weight: float = Field(default=2.0, ge=0)
    body_weight: float = Field(default=1.0, ge=0)
    terms: dict[str, tuple[str, ...]] = Field(min_length=1)
    rules: tuple[RuleSettings, ...] = Field(min_length=1)
    examples: tuple[str, ...] = ()
    counter_examples: tuple[str, ...] = ()
    require: tuple[str, ...] = ()
    alert_similarity: float = Field(default=DEFAULT_ALERT_SIMILARITY, gt=0, le=1)
    digest_similarity: float = Field(default=DEFAULT_DIGEST_SIMILARITY, gt=0, le=1)

    @field_validator("terms")
    @classmethod
    def _valid_terms(cls, lists: dict[str, tuple[str, ...]]) -> dict[str, tuple[str, ...]]:
        for name, terms in lists.items():
            if not re.match(_NAME, name):
                raise ValueError(
                    f"term list name {name!r}: use lower-case letters, digits, - and _"
                )
            if not terms:
                raise ValueError(f"term list {name!r} is empty")
            for term in terms:
                problem = term_problem(term)
                if problem:
                    raise ValueError(f"term {term!r} in list {name!r}: {problem}")
        return lists

    @model_validator(mode="after")
    def _rules_name_known_lists(self) -> TopicSettings:
        known = ", ".join(sorted(self.terms))
        for number, rule in enumerate(self.rules, start=1):
            label = rule.name or f"rule {number}"
            for field in ("all", "any", "none", "also"):
                for list_name in getattr(rule, field):
                    if list_name not in self.terms:
                        raise ValueError(
                            f"topic {self.name!r}, {label}: '{field}' names an unknown term "
                            f"list {list_name!r} (known: {known})"
                        )
        for list_name in self.require:
            if list_name not in self.terms:
                raise ValueError(
                    f"topic {self.name!r}: 'require' names an unknown term list {list_name!r} "
                    f"(known: {known})"
                )
        if self.digest_similarity > self.alert_similarity:
            raise ValueError(
                f"topic {self.name!r}: digest_similarity ({self.digest_similarity:g}) is above "
                f"alert_similarity ({self.alert_similarity:g})"
            )
        if self.counter_examples and not self.examples:
            raise ValueError(f"topic {self.name!r}: counter_examples need examples too")
        return self

    def rule_label(self, number: int) -> str:
        """A rule's name, or "rule N" (counting from 1) when it has none."""
        return self.rules[number].name or f"rule {number + 1}"


def term_problem(term: str) -> str | None:
    """Why ``term`` cannot be matched, or None: terms are plain words, ``*`` ending a word."""
    if not term.strip():
        return "a term is blank"
    bad = _FORBIDDEN.search(term)
    if bad:
        return f"terms are plain words; {bad.group()!r} is not allowed"
    words = _WORD.findall(normalise(term))
    if not words:
        return "it has no letters or digits"
    if any(word == "*" for word in words) or re.search(r"\*\w", term):
        return "a * may only end a word (withdraw* matches withdrawal, withdrawing)"
    if any(word.endswith("*") and len(word) < 4 for word in words):
        return "a * needs at least three letters before it"
    return None
