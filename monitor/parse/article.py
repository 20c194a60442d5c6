"""The readable text of an article page, with its title, date and language (trafilatura)."""

from __future__ import annotations

import codecs
import re
from datetime import UTC, datetime

import lxml.html
import trafilatura
from trafilatura.settings import Document

from monitor.records import ExtractedPage
from monitor.text.html import squash_spaces


class ExtractionError(Exception):
    """The page has no readable article text."""


BOMS = (
    (codecs.BOM_UTF8, "utf-8"),
    (codecs.BOM_UTF16_LE, "utf-16-le"),
    (codecs.BOM_UTF16_BE, "utf-16-be"),
)
META_CHARSET = re.compile(rb"<meta[^>]+?charset\s*=\s*[\"']?\s*([A-Za-z0-9._:-]+)", re.IGNORECASE)
# The WHATWG Encoding Standard reads these labels as windows-1252, as every browser does.
WINDOWS_1252_LABELS = frozenset(
    {"iso-8859-1", "iso8859-1", "latin1", "latin-1", "us-ascii", "ascii"}
)


def decode_page(body: bytes, http_charset: str | None) -> str | bytes:
    """Decode an HTML page as a browser would (WHATWG): a byte-order mark first, then the
    server's charset, then a ``<meta charset>`` in the first 1024 bytes. Bytes when none of
    them works, for trafilatura to guess."""
    for mark, encoding in BOMS:
        if body.startswith(mark):
            return body[len(mark) :].decode(encoding, errors="replace")
    meta = META_CHARSET.search(body[:1024])
    for label in (http_charset, meta.group(1).decode("ascii") if meta else None):
        if not label:
            continue
        label = label.strip().lower()
        encoding = "windows-1252" if label in WINDOWS_1252_LABELS else label
        try:
            return body.decode(encoding)
        except (LookupError, UnicodeDecodeError):
            continue
    return body


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
