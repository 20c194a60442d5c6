"""Who did what, when, with which numbers: the event evidence of an article, and how much two
articles' evidence agrees.

Every report of an event is on one topic, so shared topic words say little (an embedding
model separates same-event pairs from different-event ones no better than 0.75 ROC AUC on
labelled coverage). What tells two reports of one event from two events is the action (a
visit is not a strike), the figures (3 troops injured is not 45; a vote of 68-27 is not one of
66-30), the day it happened ("on Tuesday", "Dec. 7") and the names of who did it and where.
Each piece is a small explainable fact, and the agreement of two articles is a sum of them,
each named, so an operator sees why two articles were or were not grouped. Pure functions.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime, timedelta

from monitor.stories.terms import canonical_word, prepared
from monitor.text.tokens import tokenize

# The action of a headline, by verb class: word starts of its canonical forms.
_ACTIONS: dict[str, tuple[str, ...]] = {
    "visit": ("visit", "surprise", "arriv", "land"),
    "strike": ("strike", "struck", "airstrike", "bomb", "retaliat", "gunship", "pound", "hit"),
    "attack": ("attack", "rocket", "mortar", "blast", "explosion", "shell", "fired", "targeted"),
    "vote": ("vote", "pass", "approv"),
    "advance": ("advanc", "proceed", "cloture", "procedural"),  # a step before the vote
    "exercise": ("exercis", "drill", "train"),
    "agree": ("agree", "deal", "accord", "pact", "sign"),
    "meet": ("meet", "met", "talk", "discuss", "negotiat", "summit"),
    "withdraw": ("withdraw", "pullout", "pull", "exit", "depart", "evacuat", "leave", "drawdown"),
    "kill": ("kill", "dead", "death", "die"),
    "injure": ("injured", "hurt", "casualt", "brain"),
    "arrest": ("arrest", "detain", "captur", "custody"),
    "announce": ("announc", "unveil"),
    "tally": ("tally", "total", "times"),
}
_NUMBER_WORDS = {
    "two": "2",
    "three": "3",
    "four": "4",
    "five": "5",
    "six": "6",
    "seven": "7",
    "eight": "8",
    "nine": "9",
    "ten": "10",
    "eleven": "11",
    "twelve": "12",
    "dozen": "12",
}
_MONTHS = {
    name: number
    for number, names in enumerate(
        (
            ("jan", "january"),
            ("feb", "february"),
            ("mar", "march"),
            ("apr", "april"),
            ("may",),
            ("jun", "june"),
            ("jul", "july"),
            ("aug", "august"),
            ("sep", "sept", "september"),
            ("oct", "october"),
            ("nov", "november"),
            ("dec", "december"),
        ),
        start=1,
    )
    for name in names
}
# A headline that says its event is a new one ("new airstrikes", "another attack") does not
# report what was reported a day before it.
_RENEWAL = frozenset({"new", "another", "fresh", "again", "renewed", "latest"})
RENEWAL_HOURS = 24
# Words that start a headline's context clause: what came before, or around, the event.
_CONTEXT = frozenset({"after", "following", "amid", "over", "response", "as", "despite"})
_WEEKDAYS = ("monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday")
_YEAR = re.compile(r"^(1[89]|20)\d\d$")
# A figure mentioned this far into an article's text still describes the event.
BODY_WORDS = 400


@dataclass(frozen=True, slots=True)
class Agreement:
    """How far two articles' event evidence agrees: a score added to their term similarity,
    and the facts behind it, in words."""

    score: float
    facts: tuple[str, ...]
    conflict: bool = False  # the headlines' actions differ: two events, however alike


def actions(title: str) -> tuple[str, ...]:
    """The verb classes of a headline's main clause in the order they come, the main one
    first: "US strikes militias after drone attack" is a strike; the attack it answers is
    context, not its action (unless the main clause has none)."""
    lowers = tokenize(prepared(title)).lowers
    for position, lower in enumerate(lowers):
        if lower in _CONTEXT and position and (main := _classes(lowers[:position])):
            return main
    return _classes(lowers)


def _classes(lowers: list[str] | tuple[str, ...]) -> tuple[str, ...]:
    found: list[str] = []
    for lower in lowers:
        word = canonical_word(lower)
        for action, starts in _ACTIONS.items():
            if word.startswith(starts) and action not in found:
                found.append(action)
    return tuple(found)


def renews(title: str) -> bool:
    """Whether a headline says it reports a new occurrence: "US conducts new airstrikes"."""
    return any(lower in _RENEWAL for lower in tokenize(prepared(title)).lowers)


def figures(text: str, at: datetime | None = None, words: int = BODY_WORDS) -> frozenset[str]:
    """The numbers (not years) and dates a text mentions within its first ``words`` words:
    "3", "68", "date 12-25". A weekday ("on Tuesday") is the date of that day in the week up
    to ``at``, when the publication time is known."""
    found: set[str] = set()
    lowers = tokenize(prepared(text)).lowers[:words]
    for position, lower in enumerate(lowers):
        if lower.isdigit():
            if _YEAR.match(lower):
                continue
            before = _MONTHS.get(lowers[position - 1]) if position else None
            after = lowers[position + 1] if position + 1 < len(lowers) else ""
            # "Dec. 7" or "7 December" ("7 may" is rather a verb than a month).
            month = before or (_MONTHS.get(after) if after != "may" else None)
            if month and int(lower) <= 31:
                found.add(f"date {month:02d}-{int(lower):02d}")
            else:
                found.add(lower.lstrip("0") or "0")
        elif lower in _NUMBER_WORDS:
            found.add(_NUMBER_WORDS[lower])
        elif lower in _WEEKDAYS and at is not None:
            back = (at.weekday() - _WEEKDAYS.index(lower)) % 7
            found.add(f"date {(at - timedelta(days=back)):%m-%d}")
        elif lower == "christmas":
            found.add("date 12-25")
    return frozenset(found)


def agreement(
    first: tuple[tuple[str, ...], frozenset[str], datetime],
    second: tuple[tuple[str, ...], frozenset[str], datetime],
    shared_names: float,
    *,
    renewed: bool = False,
    action_weight: float,
    figure_weight: float,
    names_weight: float,
    day_penalty: float,
) -> Agreement:
    """The evidence two articles share, each ``(actions, figures, at)``, given the rarity
    weight of the names they share: one action in common, shared figures, shared rare
    names; less the further apart in time they are (same-day reports weigh more)."""
    (actions_a, figures_a, at_a), (actions_b, figures_b, at_b) = first, second
    score, facts = 0.0, []
    # The main actions decide: each headline's must be among the other's actions; and a
    # procedural step ("votes to advance") is not the vote it leads to.
    conflict = bool(actions_a and actions_b) and (
        (actions_a[0] not in actions_b and actions_b[0] not in actions_a)
        or ("advance" in actions_a) != ("advance" in actions_b)
    )
    if actions_a and actions_b and actions_a[0] == actions_b[0]:
        score += action_weight
        facts.append(f"action {actions_a[0]}")
    elif not conflict and (common := set(actions_a) & set(actions_b)):
        score += action_weight / 2  # one's main action is among the other's
        facts.append("action " + "/".join(sorted(common)))
    shared_figures = figures_a & figures_b
    if shared_figures:
        score += figure_weight * min(len(shared_figures), 2)
        facts.append("figures " + ", ".join(sorted(shared_figures)[:4]))
    if shared_names:
        score += names_weight * min(shared_names / 20.0, 1.0)
    hours = abs(at_a - at_b).total_seconds() / 3600
    score -= day_penalty * hours / 24
    facts.append(f"{hours:.0f} h apart")
    if renewed and hours >= RENEWAL_HOURS:
        conflict = True
        facts.append("a new occurrence")
    return Agreement(score=round(score, 4), facts=tuple(facts), conflict=conflict)
