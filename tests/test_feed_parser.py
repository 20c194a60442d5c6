"""Feed parsing on real feeds, and refusal of what is not a feed."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import pytest

from monitor.parse.feed import FeedParseError, parse_feed

FEEDS = Path(__file__).resolve().parent / "fixtures" / "feeds"


def test_a_real_rss_feed() -> None:
    feed = parse_feed((FEEDS / "guardian.rss").read_bytes(), "https://www.theguardian.com/uk/rss")
    assert feed.title.startswith("The Guardian")
    assert len(feed.entries) > 50
    first = feed.entries[0]
    assert first.url.startswith("https://www.theguardian.com/")
    assert first.title
    assert "<" not in first.summary  # HTML summaries become plain text
    assert first.published_at is not None
    assert first.published_at.tzinfo is UTC


def test_a_real_atom_feed() -> None:
    feed = parse_feed((FEEDS / "heise.atom").read_bytes(), "https://www.heise.de/rss/heise.atom")
    assert feed.title == "heise developer neueste Meldungen"
    assert feed.entries
    assert all(entry.url.startswith("http://www.heise.de/") for entry in feed.entries)
    assert all(entry.guid for entry in feed.entries)


def test_the_declared_charset_of_a_latin1_feed_is_honoured() -> None:
    body = (FEEDS / "uolNoticias.rss").read_bytes()
    feed = parse_feed(
        body, "https://rss.uol.com.br/feed/noticias.xml", "application/rss+xml; charset=ISO-8859-1"
    )
    assert any("simulações" in entry.title for entry in feed.entries)


def test_an_html_page_is_not_a_feed() -> None:
    with pytest.raises(FeedParseError, match="not a feed"):
        parse_feed((FEEDS / "unrecognized.rss").read_bytes(), "https://example.com/rss")


@pytest.mark.parametrize("body", [b"", b"   \n", bytes(range(256)) * 8, b'{"items": []}'])
def test_garbage_is_not_a_feed(body: bytes) -> None:
    with pytest.raises(FeedParseError):
        parse_feed(body, "https://example.com/rss")


def test_entries_without_guid_get_a_stable_one_and_relative_links_resolve() -> None:
    body = b"""<?xml version="1.0"?><rss version="2.0"><channel><title>T</title>
    <item><title>One</title><link>/news/1</link><pubDate>Thu, 25 Jan 2024 18:00:00 +0200</pubDate>
    </item><item><title>No link</title></item></channel></rss>"""
    first = parse_feed(body, "https://news.example/feed.xml")
    again = parse_feed(body, "https://news.example/feed.xml")
    [entry] = first.entries  # an item without a link cannot be followed, so it is dropped
    assert entry.url == "https://news.example/news/1"
    assert entry.guid == again.entries[0].guid
    assert entry.published_at == datetime(2024, 1, 25, 16, 0, tzinfo=UTC)


def test_an_ill_formed_feed_that_still_has_items_is_read_with_a_warning() -> None:
    body = b"""<?xml version="1.0"?><rss version="2.0"><channel><title>T &amp AT&T</title>
    <item><title>Iraq talks</title><link>https://news.example/1</link></item>
    </channel></rss>"""
    feed = parse_feed(body, "https://news.example/feed.xml")
    assert [entry.title for entry in feed.entries] == ["Iraq talks"]
    assert feed.warning
