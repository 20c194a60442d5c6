"""Plain-text helpers shared by parsing, matching and summarising."""

from __future__ import annotations

import re

import lxml.etree
import lxml.html

_SPACE = re.compile(r"\s+")
_SENTENCE_END = re.compile(r"(?<=[.!?。؟])[\"'”’)\]]*\s+(?=[\"'“‘(\[]?[^\s\"'“‘(\[])")
_MARKUP_HINT = re.compile(r"<[a-zA-Z/!]|&[#a-zA-Z0-9]+;")
_ABBREVIATIONS = (
    "U.S.",
    "U.K.",
    "U.N.",
    "Mr.",
    "Mrs.",
    "Ms.",
    "Dr.",
    "Gen.",
    "Lt.",
    "Col.",
    "Sgt.",
    "Sen.",
    "Rep.",
    "Gov.",
    "St.",
    "No.",
    "Jan.",
    "Feb.",
    "Aug.",
    "Sept.",
    "Oct.",
    "Nov.",
    "Dec.",
    "a.m.",
    "p.m.",
    "e.g.",
    "i.e.",
    "vs.",
)


def squash_spaces(text: str) -> str:
    """Collapse runs of white space into one space and trim the ends."""
    return _SPACE.sub(" ", text).strip()


def clip(text: str | None, limit: int) -> str:
    """``text`` cut on a word to at most ``limit`` characters, with an ellipsis if cut."""
    text = (text or "").strip()
    if len(text) <= limit:
        return text
    cut = text[: limit - 1].rsplit(" ", 1)[0] or text[: limit - 1]
    return cut.rstrip(",;:") + "…"


def html_to_text(fragment: str) -> str:
    """The visible text of an HTML fragment (feed summaries are often HTML), as one line."""
    if not fragment or not _MARKUP_HINT.search(fragment):
        return squash_spaces(fragment)
    try:
        root = lxml.html.fragment_fromstring(fragment, create_parent="div")
    except (lxml.etree.ParserError, ValueError):
        return squash_spaces(fragment)
    for junk in root.xpath(".//script|.//style"):
        junk.drop_tree()
    return squash_spaces(str(root.text_content()))


def split_sentences(text: str) -> list[str]:
    """Split prose into sentences, without breaking after common abbreviations such as "U.S."."""
    sentences: list[str] = []
    for paragraph in text.splitlines():
        pending = ""
        for piece in _SENTENCE_END.split(paragraph.strip()):
            pending = f"{pending} {piece}".strip() if pending else piece.strip()
            if pending and not pending.endswith(_ABBREVIATIONS):
                sentences.append(pending)
                pending = ""
        if pending:
            sentences.append(pending)
    return [sentence for sentence in sentences if sentence]
