"""Plain-text helpers with no parser behind them: white space and clipping."""

from __future__ import annotations

import re

_SPACE = re.compile(r"\s+")


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
