"""Terms of a topic compiled for lookup: a term's words, and an index that finds every term
in a text with one dictionary lookup per word (Arabic clitic prefixes and word stems included),
not a regular expression per term."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass

from monitor.text.tokens import Tokens, is_arabic_script, normalise, tokenize

# Arabic writes conjunctions, prepositions and the article onto the word: والعراق "and Iraq",
# بالعراق "in Iraq", للعراق "for Iraq" (lam + al- contracts to لل). A term matches behind them.
_ARABIC_PREFIXES = ("وال", "فال", "بال", "كال", "ال", "و", "ف", "ب", "ك", "ل")

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
