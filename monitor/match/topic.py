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
from monitor.records import Level, SemanticScore, TopicMatch
from monitor.text.sentences import split_sentences
from monitor.text.tokens import Tokens, is_arabic_script, normalise, tokenize, words

TITLE, BODY = 0, 1

# Arabic writes conjunctions, prepositions and the article onto the word: والعراق "and Iraq",
# بالعراق "in Iraq", للعراق "for Iraq" (lam + al- contracts to لل). A term matches behind them.
_ARABIC_PREFIXES = ("وال", "فال", "بال", "كال", "ال", "و", "ف", "ب", "ك", "ل")

WindowTest = Callable[["Hit"], bool]
_REMEMBERED_WORDS = 200_000  # words whose verdict TermIndex keeps (a few tens of MB at most)


@dataclass(frozen=True, slots=True)
class Term:
    """A term as compiled: its words, whether the last is a prefix, whether case matters."""

    text: str
    words: tuple[str, ...]
    prefix_last: bool
    exact: bool
    lists: tuple[str, ...]

    def matches_at(self, tokens: Tokens, start: int) -> bool:
        """Whether the term's words stand at ``start`` (the first is already known to)."""
        if start + len(self.words) > len(tokens):
            return False
        seen = tokens.texts if self.exact else tokens.lowers
        for offset in range(1, len(self.words)):
            at = start + offset
            word = self.words[offset]
            last = offset == len(self.words) - 1
            if not (seen[at].startswith(word) if last and self.prefix_last else seen[at] == word):
                return False
            if tokens.sentences[at] != tokens.sentences[start]:
                return False
        return True


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
class Hit:
    """A term found in a field, at a sentence and a word position."""

    term: Term
    field: int
    sentence: int
    position: int


class TermIndex:
    """Every term of a topic, looked up by a word's full form or by its first letters."""

    def __init__(self, terms: Iterable[Term]) -> None:
        self.whole: dict[str, list[Term]] = defaultdict(list)
        self.exact: dict[str, list[Term]] = defaultdict(list)
        self.prefixes: dict[str, list[Term]] = defaultdict(list)
        for term in terms:
            first = term.words[0]
            if term.prefix_last and len(term.words) == 1:
                self.prefixes[first].append(term)
            elif term.exact:
                self.exact[first].append(term)
            else:
                self.whole[first].append(term)
        self.prefix_lengths = sorted({len(prefix) for prefix in self.prefixes})
        # Prefixes are at least three letters long (the settings check it).
        self.prefix_starts = frozenset(prefix[:3] for prefix in self.prefixes)
        # Words seen so far: those a term may start at, and the others (bounded).
        self._hot: set[str] = set()
        self._cold: set[str] = set()

    def may_hit(self, words: list[str]) -> bool:
        """Whether a term may start at any of ``words``: most texts name no term at all, and
        are ruled out here before they are split into sentences."""
        return bool(self._hot_words(set(words)))

    def _hot_words(self, distinct: set[str]) -> set[str]:
        """The words of ``distinct`` a term may start at. Each new word is looked at once and
        remembered; the rest is set arithmetic."""
        unknown = distinct - self._hot - self._cold
        if unknown:
            if len(self._cold) > _REMEMBERED_WORDS:
                self._cold.clear()
            for text in unknown:
                (self._hot if self._may_match(text) else self._cold).add(text)
        return distinct & self._hot

    def hits(self, tokens: Tokens, field: int) -> list[Hit]:
        # Only the positions of words a term may start at are visited.
        hot = self._hot_words(set(tokens.texts))
        found: list[Hit] = []
        if not hot:
            return found
        texts, lowers, sentences = tokens.texts, tokens.lowers, tokens.sentences
        for index in [index for index, text in enumerate(texts) if text in hot]:
            for term in self._candidates(texts[index], lowers[index]):
                if len(term.words) == 1 or term.matches_at(tokens, index):
                    found.append(Hit(term, field, sentences[index], index))
        return found

    def _may_match(self, text: str) -> bool:
        """Whether a term could start at the word ``text`` (cheap set lookups)."""
        lower = text.lower()
        return (
            lower in self.whole
            or text in self.exact
            or lower[:3] in self.prefix_starts
            or is_arabic_script(lower)
        )

    def _candidates(self, text: str, lower: str) -> list[Term]:
        candidates: list[Term] = []
        if text in self.exact:
            candidates += self.exact[text]
        forms = _forms(lower) if is_arabic_script(lower) else (lower,)
        for form in forms:
            if form in self.whole:
                candidates += self.whole[form]
            if form[:3] in self.prefix_starts:
                for length in self.prefix_lengths:
                    if length > len(form):
                        break
                    if form[:length] in self.prefixes:
                        candidates += self.prefixes[form[:length]]
        return candidates


def _forms(word: str) -> tuple[str, ...]:
    """An Arabic-script word, and the word without its clitic prefixes."""
    forms = [word]
    if word.startswith("لل") and len(word) > 4:
        forms.append("ال" + word[2:])
    for prefix in _ARABIC_PREFIXES:
        rest = word[len(prefix) :]
        if word.startswith(prefix) and len(rest) >= 3:
            forms.append(("ال" + rest) if prefix.endswith("ال") else rest)
            if prefix.endswith("ال"):
                forms.append(rest)
    return tuple(dict.fromkeys(forms))


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


def compile_term(text: str, lists: tuple[str, ...]) -> Term:
    """Compile a term: its words; acronyms (every letter a capital, like ``US`` or ``U.S.``)
    keep their case; a final ``*`` makes the last word a prefix."""
    normal = normalise(text).strip()
    prefix_last = normal.endswith("*")
    words = tuple(tokenize(normal.rstrip("*")).texts)
    letters = [char for char in normal if char.isalpha()]
    exact = len(letters) >= 2 and all(char.isupper() for char in letters)
    if not exact:
        words = tuple(word.lower() for word in words)
    return Term(text=text, words=words, prefix_last=prefix_last, exact=exact, lists=lists)


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
