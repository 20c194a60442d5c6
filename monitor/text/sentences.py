"""The one sentence splitter: summaries pick sentences with it and the matcher's sentence windows
are its sentences, so the two never disagree about where a sentence ends.

A sentence ends at ``.``, ``!``, ``?``, ``؟``, ``。`` or ``…`` (closing quotes and brackets may
follow) before white space or the end of the text, and at every line break (a paragraph or a
block of HTML). A full stop after a single letter ("U.S.", "e.g.", "J. Smith") or after a known
abbreviation ("Gen.", "Sept.", "Mr.") does not end one.
"""

from __future__ import annotations

import re

_END = re.compile(r"([.!?؟。…]+)[\"'”’»)\]]*(?=\s|$)|\n")
_LONGEST_ABBREVIATION = 4
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
        if end_mark.group(1) == "." and _closes_abbreviation(text, end_mark.start()):
            continue
        end = end_mark.end()
        if start < end and not text[start:end].isspace():
            spans.append((start, end))
        start = end
    if start < len(text) and not text[start:].isspace():
        spans.append((start, len(text)))
    return spans


def split_sentences(text: str) -> list[str]:
    """The sentences of ``text``, each trimmed of surrounding white space."""
    return [text[start:end].strip() for start, end in sentence_spans(text)]


def _closes_abbreviation(text: str, stop: int) -> bool:
    """Whether the full stop at ``stop`` follows a single letter or a known abbreviation."""
    begin = stop
    while begin > 0 and stop - begin <= _LONGEST_ABBREVIATION and text[begin - 1].isalpha():
        begin -= 1
    word = text[begin:stop]
    if not word or (begin > 0 and text[begin - 1].isalnum()):
        return False  # no letters before it, or a longer word or a number
    return len(word) == 1 or word.lower() in ABBREVIATIONS
