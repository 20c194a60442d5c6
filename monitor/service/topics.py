"""Topics: their rules in plain words, and trying a headline (and text) against one."""

from __future__ import annotations

from dataclasses import dataclass

from monitor.match.explain import describe_rule, describe_topic
from monitor.match.topic import Topic, match_topic
from monitor.records import LEVELS
from monitor.service.context import BadInputError, NotFoundError, Services

MAX_TITLE = 1_000
MAX_TEXT = 100_000


@dataclass(frozen=True, slots=True)
class RuleView:
    label: str
    level: str
    words: str  # the rule as a sentence


@dataclass(frozen=True, slots=True)
class TopicView:
    name: str
    description: str
    rules: tuple[RuleView, ...]
    term_lists: dict[str, tuple[str, ...]]
    explanation: str  # the whole topic in words, as ``monitor topics check`` prints it


@dataclass(frozen=True, slots=True)
class Classification:
    """How a title and text fare against a topic, and why."""

    topic: str
    matched: bool
    level: str | None
    score: float
    rules: tuple[str, ...]
    terms: tuple[str, ...]
    explanation: str


def list_topics(services: Services) -> list[TopicView]:
    return [_topic_view(services, topic.name) for topic in services.settings.topics]


def get_topic(services: Services, name: str) -> TopicView:
    return _topic_view(services, name)


def _topic_view(services: Services, name: str) -> TopicView:
    settings = next((t for t in services.settings.topics if t.name == name), None)
    if settings is None:
        raise NotFoundError(f"no topic {name!r}")
    rules = tuple(
        RuleView(settings.rule_label(n), rule.level, describe_rule(rule))
        for level in LEVELS
        for n, rule in enumerate(settings.rules)
        if rule.level == level
    )
    return TopicView(
        name=settings.name,
        description=settings.description,
        rules=rules,
        term_lists={key: tuple(terms) for key, terms in settings.terms.items()},
        explanation=describe_topic(settings),
    )


def classify(
    services: Services, title: str, text: str = "", topic: str | None = None
) -> Classification:
    """Score a headline (and its text) against ``topic`` (default: the first topic)."""
    if not title.strip() and not text.strip():
        raise BadInputError("title", "give a title, a text, or both")
    if len(title) > MAX_TITLE:
        raise BadInputError("title", f"a title is at most {MAX_TITLE} characters")
    if len(text) > MAX_TEXT:
        raise BadInputError("text", f"a text is at most {MAX_TEXT} characters")
    view = _topic_view(services, topic or services.settings.topics[0].name)
    settings = services.settings.topic(view.name)
    result = match_topic(Topic.from_settings(settings), title, text)
    return Classification(
        topic=view.name,
        matched=result.matched,
        level=result.level,
        score=result.score,
        rules=result.rules,
        terms=result.terms,
        explanation=_explain(view, result.level, result.rules, result.terms),
    )


def _explain(
    view: TopicView, level: str | None, rules: tuple[str, ...], terms: tuple[str, ...]
) -> str:
    if level is None:
        return f"No rule of {view.name} fires: this would not be kept."
    fired = [rule for rule in view.rules if rule.label in rules]
    said = "; ".join(f"{rule.label}: {rule.words}" for rule in fired)
    action = "alert at once" if level == "alert" else "go into the digest"
    found = ", ".join(terms) or "-"
    return f"It would {action}, because {said}. Terms found: {found}."
