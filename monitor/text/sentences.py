"""The one sentence splitter: summaries pick sentences with it and the matcher's sentence windows
are its sentences, so the two never disagree about where a sentence ends.

A sentence ends at ``.``, ``!``, ``?``, ``؟``, ``。`` or ``…`` (closing quotes and brackets may
follow) before white space or the end of the text, and at every line break (a paragraph or a
block of HTML). A full stop after a single letter ("U.S.", "e.g.", "J. Smith") or after a known
abbreviation ("Gen.", "Sept.", "Mr.") does not end one.
"""

from __future__ import annotations

import re

_END = re.compile(r"[.!?؟。…]+[\"'”’»)\]]*(?=\s|$)|\n")
_LAST_WORD = re.compile(r"(\w+)\W*$")
ABBREVIATIONS = frozenset(
    {
        "mr",
        "mrs",
        "ms",
        "dr",
        "gen",
        "lt",
        "col",
        "maj",
        "sgt",
        "capt",
        "adm",
        "sen",
        "rep",
        "gov",
        "st",
        "no",
        "jan",
        "feb",
        "mar",
        "apr",
        "jun",
        "jul",
        "aug",
        "sep",
        "sept",
        "oct",
        "nov",
        "dec",
        "vs",
        "etc",
        "inc",
        "corp",
        "co",
    }
)


def sentence_spans(text: str) -> list[tuple[int, int]]:
    """The (start, end) offsets of each sentence of ``text``, blank ones left out."""
    spans: list[tuple[int, int]] = []
    start = 0
    for end_mark in _END.finditer(text):
        if end_mark.group() != "\n" and _abbreviation(text, start, end_mark.start(), end_mark):
            continue
        spans.append((start, end_mark.end()))
        start = end_mark.end()
    spans.append((start, len(text)))
    return [(a, b) for a, b in spans if text[a:b].strip()]


def split_sentences(text: str) -> list[str]:
    """The sentences of ``text``, each trimmed of surrounding white space."""
    return [text[start:end].strip() for start, end in sentence_spans(text)]


def _abbreviation(text: str, start: int, mark_at: int, mark: re.Match[str]) -> bool:
    """Whether the full stop at ``mark_at`` closes an abbreviation, not a sentence."""
    if not mark.group().startswith(".") or mark.group().startswith(".."):
        return False
    word = _LAST_WORD.search(text, start, mark_at)
    if word is None:
        return False
    previous = word.group(1)
    return len(previous) == 1 or previous.lower() in ABBREVIATIONS
