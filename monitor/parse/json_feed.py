"""Read a JSON Feed (jsonfeed.org, versions 1 and 1.1) into the fields feedparser would give.

feedparser 6 does not read JSON Feed at all; the fields are named as its entries name them so
that one function turns both into entries: ``summary`` falls back on the content, as
feedparser's does, and dates go through feedparser's date parser.
"""

from __future__ import annotations

import json
import urllib.parse
from typing import Any

from feedparser.datetimes import _parse_date as feedparser_date

from monitor.parse.encoding import FastPathDeclinedError
from monitor.parse.fast_feed import RawFeed

VERSION_PREFIX = "https://jsonfeed.org/version/"


def read_json_feed(body: bytes, base_url: str) -> RawFeed:
    """Read ``body`` as a JSON Feed, or raise FastPathDeclinedError if it is not one."""
    try:
        document = json.loads(body.decode("utf-8-sig"))
    except (UnicodeDecodeError, ValueError, RecursionError):
        raise FastPathDeclinedError("not JSON") from None
    if not isinstance(document, dict) or not str(document.get("version", "")).startswith(
        VERSION_PREFIX
    ):
        raise FastPathDeclinedError("JSON, but not a JSON Feed")
    items = document.get("items")
    if not isinstance(items, list):
        raise FastPathDeclinedError("a JSON Feed without a list of items")
    return RawFeed(
        title=_string(document.get("title")),
        ttl=None,
        entries=[_item(item, base_url) for item in items if isinstance(item, dict)],
    )


def _item(item: dict[str, Any], base_url: str) -> dict[str, Any]:
    content = _string(item.get("content_html")) or _string(item.get("content_text"))
    url = _string(item.get("url")).strip()
    fields: dict[str, Any] = {
        "id": _string(item.get("id")).strip(),
        "link": urllib.parse.urljoin(base_url, url) if url else "",
        "title": _string(item.get("title")).strip(),
        "summary": _string(item.get("summary")).strip() or content.strip(),
        "content": [{"type": "text/html", "value": content.strip()}] if content else [],
        "published_parsed": _date(item.get("date_published")),
        "updated_parsed": _date(item.get("date_modified")),
    }
    return fields


def _string(value: Any) -> str:
    """A text field; JSON Feed ids are strings, but numbers are common in the wild."""
    if isinstance(value, str):
        return value
    if isinstance(value, int | float) and not isinstance(value, bool):
        return str(value)
    return ""


def _date(value: Any) -> Any:
    return feedparser_date(value.strip()) if isinstance(value, str) and value.strip() else None
