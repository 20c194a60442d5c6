"""Decide whether a news item is about a topic, at which level, and why.

A topic is compiled once into a term index; matching tokenises the title and the body, looks
every word up in the index (a dictionary, not a regular expression per term, so a topic of
hundreds of terms in several languages costs a few microseconds per item), and then checks each
rule's window. The language itself is described in ``monitor.match.settings``.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable, Iterable
from dataclasses import dataclass, replace

from monitor.match.semantic import SCORED_SENTENCES, SemanticIndex, semantic_level, vetoed
from monitor.match.settings import TopicSettings, Window
from monitor.match.terms import Hit, TermIndex, compile_term
from monitor.records import Level, SemanticScore, TopicMatch
from monitor.text.sentences import split_sentences
from monitor.text.tokens import normalise, tokenize, words

TITLE, BODY = 0, 1
# Whether a hit lies inside a rule's window (the title, one sentence, N words around a term).
WindowTest = Callable[[Hit], bool]


@dataclass(frozen=True, slots=True)
class Rule:
    """A compiled rule."""

    label: str
    level: Level
    all: tuple[str, ...]
    any: tuple[str, ...]
    none: tuple[str, ...]
    also: tuple[str, ...]
    within: Window
    none_anywhere: bool
    min_score: float


@dataclass(frozen=True, slots=True)
class Topic:
    """A compiled topic."""

    name: str
    description: str
    lists: dict[str, tuple[str, ...]]
    rules: tuple[Rule, ...]
    index: TermIndex
    title_weight: float
    body_weight: float
    semantic: SemanticIndex | None = None

    @classmethod
    def from_settings(
        cls,
        settings: TopicSettings,
        *,
        more_examples: Iterable[str] = (),
        more_counter_examples: Iterable[str] = (),
    ) -> Topic:
        """Compile ``settings``; ``more_examples`` and ``more_counter_examples`` (an operator's
        feedback) join the topic's own, and those counter-examples may overrule rules. The
        embedding model is loaded only for a topic that has examples."""
        examples = (*settings.examples, *more_examples)
        owners: dict[str, list[str]] = defaultdict(list)
        for list_name, terms in settings.terms.items():
            for term in terms:
                owners[term].append(list_name)
        return cls(
            name=settings.name,
            description=settings.description,
            lists=dict(settings.terms),
            rules=tuple(
                Rule(
                    settings.rule_label(number),
                    rule.level,
                    rule.all,
                    rule.any,
                    rule.none,
                    rule.also,
                    rule.within,
                    rule.none_within == "item",
                    rule.min_score,
                )
                for number, rule in enumerate(settings.rules)
            ),
            index=TermIndex(compile_term(text, tuple(lists)) for text, lists in owners.items()),
            title_weight=settings.title_weight,
            body_weight=settings.body_weight,
            semantic=SemanticIndex.build(
                examples,
                settings.counter_examples,
                vetoes=tuple(more_counter_examples),
                require=settings.require,
                alert_similarity=settings.alert_similarity,
                digest_similarity=settings.digest_similarity,
            )
            if examples
            else None,
        )

    def with_feedback(self, examples: Iterable[str], counter_examples: Iterable[str]) -> Topic:
        """This topic with an operator's examples and counter-examples added to its own."""
        if self.semantic is None:
            return self
        return replace(
            self, semantic=self.semantic.with_more(tuple(examples), tuple(counter_examples))
        )

    def relevance(self, text: str) -> float:
        """How much of the topic a passage carries: how many of its term lists it mentions
        (lists, not terms, so that a long sentence repeating one idea does not win)."""
        hits = self.index.hits(tokenize(normalise(text)), BODY)
        return float(len({name for hit in hits for name in hit.term.lists}))


def match_topic(topic: Topic, title: str, body: str = "") -> TopicMatch:
    """Evaluate every rule of ``topic`` on ``title`` and ``body``; the best level wins. When no
    rule alerts, the semantic layer (if the topic has examples) may raise the item; an item
    very like what an operator marked "not relevant" is dropped whatever decided it."""
    hits = _hits(topic, title, body)
    by_rules = _match_rules(topic, hits)
    semantic = topic.semantic
    if semantic is None or (by_rules.level == "alert" and not semantic.vetoes):
        return by_rules
    score = _semantic_score(topic, title, body, hits) if by_rules.level != "alert" else None
    decided = by_rules if score is None else _raised(topic, hits, by_rules, score)
    if semantic.vetoes and decided.level is not None:
        score = score or semantic.score(_segments(title, body))
        if vetoed(score):
            return TopicMatch(
                topic=topic.name, level=None, score=0.0, rules=(veto_label(score),), semantic=score
            )
    return decided


def _raised(
    topic: Topic, hits: list[Hit], by_rules: TopicMatch, score: SemanticScore
) -> TopicMatch:
    """The rules' verdict, or the semantic layer's level when that is higher."""
    assert topic.semantic is not None
    level = semantic_level(score, topic.semantic.alert_similarity, topic.semantic.digest_similarity)
    if level is None or level == by_rules.level:
        return replace(by_rules, semantic=score)
    anchors = dict.fromkeys(
        hit.term.text
        for hit in hits
        if any(name in topic.semantic.require for name in hit.term.lists)
    )
    return TopicMatch(
        topic=topic.name,
        level=level,
        score=score.similarity,
        terms=tuple(anchors),
        rules=(semantic_label(score),),
        semantic=replace(score, raised=True),
    )


def semantic_score(topic: Topic, title: str, body: str = "") -> SemanticScore | None:
    """How close the item comes to the topic's examples, whatever the rules say; None when the
    topic has no examples or the item does not name the lists the topic requires."""
    return _semantic_score(topic, title, body, _hits(topic, title, body))


def _hits(topic: Topic, title: str, body: str) -> list[Hit]:
    return _field_hits(topic.index, title, TITLE) + _field_hits(topic.index, body, BODY)


def _field_hits(index: TermIndex, text: str, field: int) -> list[Hit]:
    normal = normalise(text)
    if not index.may_hit(words(normal)):
        return []
    return index.hits(tokenize(normal), field)


def _semantic_score(topic: Topic, title: str, body: str, hits: list[Hit]) -> SemanticScore | None:
    if topic.semantic is None or not hits:
        return None
    mentioned = {name for hit in hits for name in hit.term.lists}
    if any(name not in mentioned for name in topic.semantic.require):
        return None
    return topic.semantic.score(_segments(title, body))


def _segments(title: str, body: str) -> list[str]:
    """What the semantic layer scores: the title and the first sentences of the text."""
    return [title, *split_sentences(body)[:SCORED_SENTENCES]]


def semantic_label(score: SemanticScore) -> str:
    """How the semantic layer explains a decision, as ``matched_rules`` shows it."""
    return f'similar to an example ({score.similarity:.2f}): "{score.nearest_example}"'


def veto_label(score: SemanticScore) -> str:
    """How a decision overruled by an operator's "not relevant" feedback is explained."""
    return (
        f'marked not relevant by an operator ({score.veto_similarity:.2f}): "{score.nearest_veto}"'
    )


def _match_rules(topic: Topic, hits: list[Hit]) -> TopicMatch:
    if not hits:
        return TopicMatch(topic=topic.name, level=None, score=0.0)
    by_list: dict[str, list[Hit]] = defaultdict(list)
    # Each term list counts once: the title weight if it is in the title, else the body weight.
    weights: dict[str, float] = {}
    for hit in hits:
        weight = topic.title_weight if hit.field == TITLE else topic.body_weight
        for list_name in hit.term.lists:
            by_list[list_name].append(hit)
            weights[list_name] = max(weight, weights.get(list_name, 0.0))
    fired = [
        (rule, score)
        for rule in topic.rules
        if _fires(rule, by_list)
        and (score := sum(weights.get(name, 0.0) for name in (*rule.all, *rule.any)))
        >= rule.min_score
    ]
    if not fired:
        return TopicMatch(topic=topic.name, level=None, score=0.0)
    level: Level = "alert" if any(rule.level == "alert" for rule, _ in fired) else "digest"
    best = [(rule, score) for rule, score in fired if rule.level == level]
    lists = {name for rule, _ in best for name in (*rule.all, *rule.any)}
    terms = dict.fromkeys(
        hit.term.text for hit in hits if any(name in lists for name in hit.term.lists)
    )
    return TopicMatch(
        topic=topic.name,
        level=level,
        score=max(score for _, score in best),
        terms=tuple(terms),
        rules=tuple(rule.label for rule, _ in best),
    )


def _fires(rule: Rule, by_list: dict[str, list[Hit]]) -> bool:
    if any(name not in by_list for name in (*rule.all, *rule.also)):
        return False
    if rule.any and not any(name in by_list for name in rule.any):
        return False
    if rule.none_anywhere and any(name in by_list for name in rule.none):
        return False
    return any(_fires_in(window, rule, by_list) for window in _windows(rule, by_list))


def _fires_in(window: WindowTest, rule: Rule, by_list: dict[str, list[Hit]]) -> bool:
    def mentioned(name: str) -> bool:
        return any(window(hit) for hit in by_list.get(name, ()))

    return (
        all(mentioned(name) for name in rule.all)
        and (not rule.any or any(mentioned(name) for name in rule.any))
        and not any(mentioned(name) for name in rule.none)
    )


def _windows(rule: Rule, by_list: dict[str, list[Hit]]) -> Iterable[WindowTest]:
    """The places a rule may fire: the item, the title, each sentence, or N words around each
    mention of its first term list."""
    if rule.within == "item":
        return [lambda hit: True]
    if rule.within == "title":
        return [lambda hit: hit.field == TITLE]
    anchors = (
        by_list[rule.all[0]]
        if rule.all
        else [hit for name in rule.any for hit in by_list.get(name, ())]
    )
    if rule.within == "sentence":
        places = {(hit.field, hit.sentence) for hit in anchors}
        return [_in_sentence(field, sentence) for field, sentence in sorted(places)]
    assert isinstance(rule.within, int)
    return [_near(hit.field, hit.position, rule.within) for hit in anchors]


def _in_sentence(field: int, sentence: int) -> WindowTest:
    return lambda hit: hit.field == field and hit.sentence == sentence


def _near(field: int, position: int, words: int) -> WindowTest:
    return lambda hit: hit.field == field and abs(hit.position - position) <= words
