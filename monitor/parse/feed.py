"""Turn the bytes of an RSS, Atom or JSON feed into frozen entries, without ever fetching.

Well-formed feeds are read by the fast lxml reader (``fast_feed``), which reproduces feedparser's
reading of the fields kept here; anything it declines (ill-formed, an encoding in doubt, a
construct it does not copy) is read by feedparser. Both read the document after the entity guard,
within the fetcher's size cap.
"""

from __future__ import annotations

import calendar
import hashlib
import re
import time
from datetime import UTC, datetime
from typing import Any

import feedparser

from monitor.parse.encoding import FastPathDeclinedError, declared_charset
from monitor.parse.fast_feed import RawFeed, read_xml_feed
from monitor.parse.json_feed import read_json_feed
from monitor.parse.xml_guard import GuardedXML, UnsafeXMLError, remove_entity_declarations
from monitor.records import FeedEntry, ParsedFeed
from monitor.text.html import html_to_text, squash_spaces


class FeedParseError(Exception):
    """The document is not a feed (an HTML page, garbage, an empty body)."""


def parse_feed(body: bytes, url: str, content_type: str | None = None) -> ParsedFeed:
    """Parse ``body`` as a feed found at ``url``: with the fast reader where it can, else with
    feedparser.

    Neither parser is handed a URL it could fetch, nor an entity declaration it could blow up
    (see ``xml_guard``). A feed that is ill-formed but still yields entries (feedparser's
    "bozo" flag) is accepted with a warning.
    """
    guarded = guard_feed(body, content_type)
    return read_fast(guarded.body, url, content_type, guarded.removed) or read_with_feedparser(
        guarded.body, url, content_type, guarded.removed
    )


def guard_feed(body: bytes, content_type: str | None) -> GuardedXML:
    """``body`` without entity declarations; FeedParseError if it is empty or cannot be made
    safe."""
    if not body.strip(b" \t\r\n\0\xef\xbb\xbf\xfe\xff"):
        raise FeedParseError("empty body")
    try:
        return remove_entity_declarations(body, declared_charset(content_type))
    except UnsafeXMLError as error:
        raise FeedParseError(f"refused: {error}") from None


def read_fast(
    body: bytes, url: str, content_type: str | None, guarded: bool = False
) -> ParsedFeed | None:
    """The feed as the fast reader sees it, or None where it declines (feedparser's turn)."""
    try:
        if body.lstrip(b" \t\r\n\xef\xbb\xbf")[:1] == b"{":
            raw = read_json_feed(body, url)
        else:
            raw = read_xml_feed(body, url, content_type)
    except FastPathDeclinedError:
        return None
    return _parsed(raw, url, ["entity declarations removed before parsing"] if guarded else [])


def read_with_feedparser(
    body: bytes, url: str, content_type: str | None, guarded: bool = False
) -> ParsedFeed:
    """The feed as feedparser sees it (the safety net for whatever the fast reader declines)."""
    headers = {"content-location": url}
    if content_type:
        headers["content-type"] = content_type
    try:
        parsed = feedparser.parse(body, response_headers=headers, sanitize_html=False)
    except UnicodeError:
        # feedparser encodes each character reference to UTF-8, and a reference to a
        # surrogate (&#xD800;) raises out of it: such references become U+FFFD first.
        parsed = feedparser.parse(
            _valid_char_refs(body), response_headers=headers, sanitize_html=False
        )
    raw = RawFeed(
        title=parsed.feed.get("title", ""), ttl=parsed.feed.get("ttl"), entries=parsed.entries
    )
    warnings = [str(parsed.bozo_exception)] if parsed.bozo else []
    if guarded:
        warnings.append("entity declarations removed before parsing")
    feed = _parsed(raw, url, warnings)
    if not parsed.version and not feed.entries:
        reason = parsed.get("bozo_exception")
        raise FeedParseError(f"not a feed: {reason}" if reason else "not a feed")
    return feed


def _parsed(raw: RawFeed, url: str, warnings: list[str]) -> ParsedFeed:
    entries, unreadable = _entries(raw.entries)
    if unreadable:
        warnings = [*warnings, f"{unreadable} unreadable entries skipped"]
    return ParsedFeed(
        title=squash_spaces(raw.title) or url,
        entries=entries,
        warning="; ".join(warnings) or None,
        ttl_seconds=_ttl_seconds(raw.ttl),
    )


def _entries(raws: list[Any]) -> tuple[tuple[FeedEntry, ...], int]:
    """The entries that can be read, and how many could not: one odd entry never costs the
    feed its others."""
    entries: list[FeedEntry] = []
    unreadable = 0
    for raw in raws:
        try:
            entry = _entry(raw)
        except (ValueError, TypeError, AttributeError, LookupError, OverflowError):
            unreadable += 1
            continue
        if entry is not None:
            entries.append(entry)
    return tuple(entries), unreadable


_CHAR_REF = re.compile(r"&#(x[0-9a-fA-F]{1,16}|[0-9]{1,20});")


def _valid_char_refs(body: bytes) -> bytes:
    """``body`` with every character reference to a code point XML forbids (a surrogate, zero,
    beyond U+10FFFF) replaced by one to U+FFFD, in UTF-16 as in ASCII-compatible encodings."""
    utf16 = body[:2] in (b"\xff\xfe", b"\xfe\xff") or b"\x00" in body[:4]
    if not utf16:
        pattern = re.compile(_CHAR_REF.pattern.encode())
        return pattern.sub(lambda found: _valid_ref(found.group(0).decode()).encode(), body)
    encoding = (
        "utf-16"
        if body[:2] in (b"\xff\xfe", b"\xfe\xff")
        else ("utf-16-le" if body[1:2] == b"\x00" else "utf-16-be")
    )
    text = body.decode(encoding, errors="replace")
    return _CHAR_REF.sub(lambda found: _valid_ref(found.group(0)), text).encode(encoding)


def _valid_ref(reference: str) -> str:
    digits = reference[2:-1]
    point = int(digits[1:], 16) if digits[0] in "xX" else int(digits)
    allowed = 0x20 <= point <= 0x10FFFF and not 0xD800 <= point <= 0xDFFF
    valid = point in (0x9, 0xA, 0xD) or allowed
    return reference if valid else "&#xFFFD;"


def _ttl_seconds(value: Any) -> float | None:
    """RSS 2.0 ``<ttl>``: minutes the channel may be cached before it is fetched again."""
    try:
        minutes = float(str(value).strip())
    except ValueError:
        return None
    return minutes * 60 if 0 < minutes < 1e7 else None


def _entry(raw: Any) -> FeedEntry | None:
    url = squash_spaces(raw.get("link", ""))
    title = squash_spaces(html_to_text(raw.get("title", "")))
    if not url or not url.lower().startswith(("http://", "https://")):
        return None
    content_parts = raw.get("content") or []
    content = html_to_text(" ".join(part.get("value", "") for part in content_parts))
    guid = squash_spaces(raw.get("id", "")) or _synthetic_guid(url, title)
    return FeedEntry(
        guid=guid,
        url=url,
        title=title,
        summary=html_to_text(raw.get("summary", "")),
        content=content,
        # dict.get: feedparser's own .get() maps the two keys onto each other, with a warning.
        published_at=_timestamp(
            dict.get(raw, "published_parsed") or dict.get(raw, "updated_parsed")
        ),
    )


def _synthetic_guid(url: str, title: str) -> str:
    return "sha1:" + hashlib.sha1(f"{url}\n{title}".encode()).hexdigest()


def _timestamp(value: time.struct_time | None) -> datetime | None:
    if value is None:
        return None
    try:
        return datetime.fromtimestamp(calendar.timegm(value), tz=UTC)
    except (OverflowError, ValueError):
        return None
