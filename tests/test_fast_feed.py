"""The fast feed reader reads real feeds exactly as feedparser does, and leaves to feedparser
whatever it cannot read that way."""

from __future__ import annotations

import time
from pathlib import Path

import pytest

from monitor.parse.feed import guard_feed, parse_feed, read_fast, read_with_feedparser
from tests.test_xml_guard import quadratic_blowup

FEEDS = Path(__file__).resolve().parent / "fixtures" / "feeds"
URL = "https://news.example/feed"
# Real feeds the fast reader takes: RSS 2.0 (with inline markup, itunes and media elements),
# RSS 1.0 with dc:title, Atom 1.0.
FAST = [
    "guardian.rss",
    "heise.atom",
    "heraldsun.rss",
    "reddit-atom.rss",
    "craigslist.rss",
    "pagination-links.rss",
    "atom-customfields.atom",
    "rss-1.rss",
]


@pytest.mark.parametrize("name", FAST)
def test_real_feeds_read_fast_exactly_as_feedparser_reads_them(name: str) -> None:
    body = (FEEDS / name).read_bytes()
    fast = read_fast(body, URL, "application/rss+xml")
    assert fast is not None, "the fast reader declined a well-formed feed"
    assert fast == read_with_feedparser(body, URL, "application/rss+xml")


def test_the_fast_reader_finds_what_a_reader_of_the_feed_sees() -> None:
    feed = read_fast((FEEDS / "pagination-links.rss").read_bytes(), URL, None)
    assert feed is not None
    [entry] = feed.entries
    assert entry.title == "The First Episode"
    assert entry.url == "https://example.test/episode?id=283843"
    assert entry.guid == "a6f22abe-be5c-4a37-8f4b-8be3d69b0235"  # isPermaLink="false": kept as is
    # itunes:summary came first, and the channel's own summary had already set feedparser's
    # "has content" flag, so the description replaces the summary instead of becoming content.
    assert entry.summary == "The First Episode"
    assert entry.content == ""
    assert entry.published_at is not None
    assert entry.published_at.isoformat() == "2021-01-21T07:58:00+00:00"


@pytest.mark.parametrize(
    ("body", "content_type"),
    [
        # ill-formed: an unescaped ampersand
        (
            b"<rss version='2.0'><channel><title>A & B</title><item><title>x</title>"
            b"<link>https://news.example/1</link></item></channel></rss>",
            None,
        ),
        # the server's charset disagrees with the document's
        ((FEEDS / "uolNoticias.rss").read_bytes(), "application/rss+xml; charset=ISO-8859-1"),
        # a DOCTYPE (external entities are feedparser's business, or nobody's)
        (
            b"<?xml version='1.0'?><!DOCTYPE rss SYSTEM 'file:///etc/passwd'><rss version='2.0'>"
            b"<channel><title>T</title></channel></rss>",
            None,
        ),
        # Atom 0.3, whose content modes only feedparser decodes
        (b"<feed version='0.3' xmlns='http://purl.org/atom/ns#'><title>T</title></feed>", None),
        # xml:base changes how links resolve
        (
            b"<feed xmlns='http://www.w3.org/2005/Atom' xml:base='https://elsewhere.example/'>"
            b"<title>T</title><entry><link href='/1'/></entry></feed>",
            None,
        ),
    ],
    ids=["ill-formed", "charset-disagrees", "doctype", "atom-0.3", "xml-base"],
)
def test_what_the_fast_reader_cannot_read_exactly_goes_to_feedparser(
    body: bytes, content_type: str | None
) -> None:
    assert read_fast(body, URL, content_type) is None
    parse_feed(body, URL, content_type)  # and feedparser still reads it, as before


def test_entity_bombs_are_defused_before_either_reader() -> None:
    body = quadratic_blowup().replace("{encoding}", "utf-8").encode()
    guarded = guard_feed(body, None)
    assert guarded.removed
    started = time.perf_counter()
    feed = parse_feed(body, URL)
    assert time.perf_counter() - started < 2
    assert all(len(entry.title) < 1000 for entry in feed.entries)
    assert "entity declarations removed" in (feed.warning or "")


def test_an_undefined_entity_is_not_expanded_by_the_fast_reader() -> None:
    body = (
        b"<rss version='2.0'><channel><title>T</title><item><title>&boom;</title>"
        b"<link>https://news.example/1</link></item></channel></rss>"
    )
    assert read_fast(body, URL, None) is None


def test_a_json_feed_is_read() -> None:
    body = b"""{"version": "https://jsonfeed.org/version/1.1", "title": "News",
      "items": [{"id": 7, "url": "/iraq-talks", "title": "Iraq and US open talks",
                 "content_html": "<p>Baghdad and <b>Washington</b> began.</p>",
                 "date_published": "2024-01-25T18:00:00+02:00"},
                {"id": "no-link", "content_text": "no url, so not followed"}]}"""
    feed = parse_feed(body, URL, "application/feed+json")
    assert feed.title == "News"
    [entry] = feed.entries
    assert (entry.guid, entry.url) == ("7", "https://news.example/iraq-talks")
    assert entry.summary == entry.content == "Baghdad and Washington began."
    assert entry.published_at is not None
    assert entry.published_at.isoformat() == "2024-01-25T16:00:00+00:00"
