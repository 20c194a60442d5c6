"""Words and sentences of a text, normalised so that a term matches however a site typed it.

Normalisation folds what differs in spelling but not in meaning: Unicode compatibility forms,
typographic quotes and dashes, Russian ё/е, Arabic letter variants (alef forms, alef maqsura, teh
marbuta, hamza seats, Persian and Kurdish letter shapes) and Arabic diacritics and tatweel.
Case is kept, because acronyms ("US", "HMC") must be told from words ("us"); matching folds case
for everything else.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass

from monitor.text.sentences import sentence_spans

_FOLD = str.maketrans(
    {
        # Typography.
        "’": "'",
        "‘": "'",
        "ʼ": "'",
        "`": "'",
        "“": '"',
        "”": '"',
        "«": '"',
        "»": '"',
        "‐": "-",
        "‑": "-",
        "‒": "-",
        "–": "-",
        "—": "-",
        "\u00a0": " ",
        # Russian.
        "ё": "е",
        "Ё": "Е",
        # Arabic letter variants.
        "أ": "ا",
        "إ": "ا",
        "آ": "ا",
        "ٱ": "ا",
        "ى": "ي",
        "ة": "ه",
        "ؤ": "و",
        "ئ": "ي",
        # Persian and Kurdish (Sorani) shapes of Arabic letters.
        "ک": "ك",
        "ی": "ي",
        "ێ": "ي",
        "ە": "ه",
        "ۆ": "و",
        "ڕ": "ر",
        "ڵ": "ل",
        "ھ": "ه",
        # Arabic diacritics (harakat, tanwin, shadda, sukun, dagger alef) and tatweel vanish.
        **{chr(code): None for code in range(0x064B, 0x0653)},
        "\u0670": None,
        "\u0640": None,
    }
)

_WORD = re.compile(r"\w+")


def normalise(text: str) -> str:
    """Fold spelling variants (see the module docstring); the result keeps its case."""
    if text.isascii():
        return text  # nothing to fold, and the most common case by far
    return unicodedata.normalize("NFKC", text).translate(_FOLD)


@dataclass(frozen=True, slots=True)
class Tokens:
    """The words of a text, column by column: as written (normalised), lower-cased, and the
    number of the sentence each stands in. A word's position is its index."""

    texts: list[str]
    lowers: list[str]
    sentences: list[int]

    def __len__(self) -> int:
        return len(self.texts)


def words(text: str) -> list[str]:
    """The words of an already normalised ``text``: those of ``tokenize``, without sentences
    (no word spans a sentence end, which is punctuation or a line break)."""
    return _WORD.findall(text)


def tokenize(text: str) -> Tokens:
    """The words of an already normalised ``text``, with the sentence each stands in (the
    sentences of ``monitor.text.sentences``, the same ones summaries are made of)."""
    texts: list[str] = []
    sentences: list[int] = []
    for number, (start, end) in enumerate(sentence_spans(text)):
        words = _WORD.findall(text, start, end)
        texts += words
        sentences += [number] * len(words)
    # Words hold no space, so lower-casing them joined is lower-casing each, at C speed.
    lowers = " ".join(texts).lower().split(" ") if texts else []
    return Tokens(texts, lowers, sentences)


def is_arabic_script(word: str) -> bool:
    """Whether ``word`` is written in Arabic script (Arabic, Sorani Kurdish, Persian)."""
    return "\u0600" <= word[0] <= "\u06ff"
