"""Extractive summaries: the few sentences of an article that best carry its topic."""

from __future__ import annotations

import re
from collections.abc import Callable

from monitor.text.plain import clip
from monitor.text.sentences import split_sentences

MAX_SENTENCES = 3
MAX_CHARACTERS = 600
_LEAD_BONUS = 1.5
_SHORTEST = 40
_ENDS_SENTENCE = re.compile(r"[.!?。؟…][\"'”’»)\]]*$")


def summarise(
    text: str,
    relevance: Callable[[str], float],
    *,
    max_sentences: int = MAX_SENTENCES,
    max_characters: int = MAX_CHARACTERS,
) -> str:
    """Pick up to ``max_sentences`` sentences, lead first when it carries the topic, in text order.

    ``relevance`` scores a sentence (e.g. the number of topic terms in it); the lead sentence
    gets a bonus because news writing puts the who-what-when there. No model and no network.
    """
    every = split_sentences(text)
    # Headlines, captions and bylines in the extracted text are lines without a full stop.
    sentences = [s for s in every if len(s) >= _SHORTEST and _ENDS_SENTENCE.search(s)] or every
    if not sentences:
        return ""
    scored = []
    for position, sentence in enumerate(sentences[:200]):
        score = relevance(sentence)
        if position == 0:
            score += _LEAD_BONUS
        scored.append((score, -position, position, sentence))
    best = sorted(scored, reverse=True)[:max_sentences]
    chosen: list[str] = []
    length = 0
    for _, _, _, sentence in sorted(best, key=lambda item: item[2]):
        if chosen and length + len(sentence) + 1 > max_characters:
            break
        chosen.append(sentence)
        length += len(sentence) + 1
    return clip(" ".join(chosen), max_characters)
