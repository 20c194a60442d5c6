"""The readable text of an article page, with its title, date and language (trafilatura)."""

from __future__ import annotations

from datetime import UTC, datetime

import lxml.html
import trafilatura
from trafilatura.settings import Document

from monitor.records import ExtractedPage
from monitor.text import squash_spaces


class ExtractionError(Exception):
    """The page has no readable article text."""


def extract_page(html: bytes | str, url: str | None = None) -> ExtractedPage:
    """Extract the main text of ``html`` (bytes are decoded by trafilatura's charset detection)."""
    document = trafilatura.bare_extraction(
        html, url=url, with_metadata=True, include_comments=False, include_tables=False
    )
    if not isinstance(document, Document) or not (document.text or "").strip():
        raise ExtractionError("no article text found on the page")
    return ExtractedPage(
        title=squash_spaces(document.title or ""),
        text=(document.text or "").strip(),
        published_at=_date(document.date),
        language=_language(html) or document.language,
    )


def _date(value: str | None) -> datetime | None:
    if not value:
        return None
    try:
        parsed = datetime.fromisoformat(value)
    except ValueError:
        return None
    return parsed.replace(tzinfo=UTC) if parsed.tzinfo is None else parsed.astimezone(UTC)


def _language(html: bytes | str) -> str | None:
    """The page's declared language (``<html lang="en-GB">`` gives ``en``)."""
    try:
        root = lxml.html.document_fromstring(html[:65536] if isinstance(html, bytes) else html)
    except (ValueError, lxml.etree.ParserError):
        return None
    declared = root.get("lang") or root.get("xml:lang") or ""
    code = declared.strip().split("-")[0].split("_")[0].lower()
    return code if code.isalpha() and 2 <= len(code) <= 3 else None
