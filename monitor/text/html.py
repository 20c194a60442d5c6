"""The visible text of HTML fragments (feed titles and summaries are often HTML).

``html-text`` reads the fragment with lxml and keeps the layout that carries meaning: a block
element (a paragraph, a heading, a list item, a line break) starts a new line, so words of two
paragraphs are never glued together ("…leave</p><p>Iraq" is "leave" and "Iraq", not
"leaveIraq"), and a line break ends a sentence for the matcher and the summariser.
"""

from __future__ import annotations

import re

import html_text
import lxml.etree

from monitor.text.plain import clip, squash_spaces

__all__ = ["clip", "html_to_text", "squash_spaces"]

_MARKUP_HINT = re.compile(r"<[a-zA-Z/!]|&[#a-zA-Z0-9]+;")
_LINE_SPACE = re.compile(r"[^\S\n]+")
_BLANK_LINES = re.compile(r"\s*\n\s*")


def html_to_text(fragment: str) -> str:
    """The visible text of an HTML fragment: one line per block, white space squashed."""
    if not fragment or not _MARKUP_HINT.search(fragment):
        return squash_spaces(fragment or "")
    try:
        text = html_text.extract_text(fragment, guess_layout=True)
    except (lxml.etree.ParserError, ValueError):
        return squash_spaces(fragment)
    return _BLANK_LINES.sub("\n", _LINE_SPACE.sub(" ", text)).strip()
