"""The readable text of an article page, with its title, date and language (trafilatura)."""

from __future__ import annotations

import codecs
import re
from datetime import UTC, datetime

import lxml.html
import webencodings

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


def decode_page(body: bytes, http_charset: str | None) -> str | bytes:
    """Decode an HTML page as a browser would (WHATWG): a byte-order mark first, then the
    server's charset, then a ``<meta charset>`` in the first 1024 bytes. Bytes when none of
    them works, for trafilatura to guess.

    Labels are read through the WHATWG label table (``webencodings``): ``latin1`` means
    windows-1252, and a label outside it (``punycode``, ``rot13``, ``utf-7``) is no charset at
    all, never a Python codec that could throw or decode something else.
    """
    for mark, bom_encoding in BOMS:
        if body.startswith(mark):
            return body[len(mark) :].decode(bom_encoding, errors="replace")
    meta = META_CHARSET.search(body[:1024])
    for label, in_page in ((http_charset, False), (meta.group(1).decode() if meta else None, True)):
        encoding = whatwg_encoding(label, in_page=in_page)
        if encoding is None:
            continue
        try:
            text, _ = encoding.codec_info.decode(body, "strict")
        except (UnicodeError, LookupError):
            continue  # a wrong label falls through to the next clue
        return str(text)
    return body


def whatwg_encoding(label: str | None, *, in_page: bool) -> webencodings.Encoding | None:
    """The encoding a label names by the WHATWG table; None for an unknown label, or for the
    "replacement" encoding (a page in it would decode to one U+FFFD: better to guess)."""
    encoding = webencodings.lookup(label) if label else None
    if encoding is None or encoding.name == "replacement":
        return None
    if in_page and encoding.name in ("utf-16le", "utf-16be"):
        # A page that could be read far enough to find its <meta> is not UTF-16 (HTML §4.2.5.5).
        return webencodings.lookup("utf-8")
    if in_page and encoding.name == "x-user-defined":
        return webencodings.lookup("windows-1252")
    return encoding


def extract_page(html: bytes | str, url: str | None = None) -> ExtractedPage:
    """Extract the main text of ``html`` (bytes are decoded by trafilatura's charset detection)."""
    # Imported here: a third of a second of start-up that a check finding no new entry never
    # needs.
    import trafilatura
    from trafilatura.settings import Document

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
