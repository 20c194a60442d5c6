"""Topics: their rules in plain words, and trying a headline (and text) against one."""

from __future__ import annotations

from dataclasses import dataclass

from monitor.match.explain import describe_rule, describe_topic
from monitor.match.topic import Topic, match_topic
from monitor.records import LEVELS
from monitor.service.context import BadInputError, NotFoundError, Services
from monitor.store.feedback import TopicFeedback, feedback_by_topic

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


async def classify(
    services: Services, title: str, text: str = "", topic: str | None = None
) -> Classification:
    """Score a headline (and its text) against ``topic`` (default: the first topic), with the
    feedback operators have stored for it."""
    if not title.strip() and not text.strip():
        raise BadInputError("title", "give a title, a text, or both")
    if len(title) > MAX_TITLE:
        raise BadInputError("title", f"a title is at most {MAX_TITLE} characters")
    if len(text) > MAX_TEXT:
        raise BadInputError("text", f"a text is at most {MAX_TEXT} characters")
    view = _topic_view(services, topic or services.settings.topics[0].name)
    settings = services.settings.topic(view.name)
    stored = feedback_by_topic(await services.store.feedback.entries(view.name))
    given = stored.get(view.name, TopicFeedback())
    compiled = Topic.from_settings(
        settings, more_examples=given.examples, more_counter_examples=given.counter_examples
    )
    result = match_topic(compiled, title, text)
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
        why = f" ({rules[0]})" if rules else ""
        return f"No rule of {view.name} fires{why}: this would not be kept."
    words = {rule.label: rule.words for rule in view.rules}
    # A rule is said in words; the semantic layer's label already says why it raised the item.
    said = "; ".join(f"{label}: {words[label]}" if label in words else label for label in rules)
    action = "alert at once" if level == "alert" else "go into the digest"
    found = ", ".join(terms) or "-"
    return f"It would {action}, because {said}. Terms found: {found}."
