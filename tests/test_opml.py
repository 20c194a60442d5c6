"""OPML in and out as pure functions: the plan of a file (repeats, bad URLs, folders) and the
document an export writes."""

from __future__ import annotations

from datetime import UTC, datetime
from xml.etree import ElementTree

import listparser

from monitor.parse.outlines import listed_feed_urls
from monitor.service.opml import opml_document, read_opml
from tests.conftest import FIXTURES

NOW = datetime(2026, 11, 30, 12, 0, tzinfo=UTC)


def opml(body: str) -> bytes:
    return f'<?xml version="1.0"?><opml version="2.0"><body>{body}</body></opml>'.encode()


def test_a_feed_listed_twice_in_one_folder_is_reported() -> None:
    plan = read_opml(
        opml(
            '<outline text="News">'
            '<outline text="A" xmlUrl="https://a.example/feed"/>'
            '<outline text="A again" xmlUrl="https://a.example/feed"/>'
            "</outline>"
        )
    )
    assert [feed.url for feed in plan.feeds] == ["https://a.example/feed"]
    assert [(p.url, p.reason) for p in plan.repeated] == [
        ("https://a.example/feed", "listed 2 times in folder News")
    ]


def test_repeats_at_the_top_across_folders_and_with_spaces_are_counted() -> None:
    plan = read_opml(
        opml(
            '<outline text="A" xmlUrl="https://a.example/feed"/>'
            '<outline text="A" xmlUrl=" https://a.example/feed "/>'
            '<outline text="One"><outline text="B" xmlUrl="https://b.example/feed?api_key=K1"/>'
            "</outline>"
            '<outline text="Two"><outline text="B" xmlUrl="https://b.example/feed?api_key=K1"/>'
            '<outline text="B" xmlUrl="https://b.example/feed?api_key=K1"/></outline>'
            '<outline text="C" xmlUrl="https://c.example/feed" category="/x,/y"/>'
        )
    )
    assert [feed.url for feed in plan.feeds] == [
        "https://a.example/feed",
        "https://b.example/feed?api_key=K1",
        "https://c.example/feed",
    ]
    assert [(p.url, p.reason) for p in plan.repeated] == [
        ("https://a.example/feed", "listed 2 times"),
        ("https://b.example/feed?api_key=***", "listed 3 times in folders One, Two"),
    ]  # two categories of one outline are not a repeat


def test_the_fixture_reports_nested_folders_bad_urls_and_repeats() -> None:
    plan = read_opml((FIXTURES / "feeds.opml").read_bytes())
    assert plan.folders == ("News", "Elsewhere", "News/Middle East")
    assert [feed.folder for feed in plan.feeds] == ["News", "News/Middle East"]
    assert [p.url for p in plan.invalid] == ["ftp://example.org/feed"]
    assert [p.url for p in plan.repeated] == [
        "http://127.0.0.1:9/wire.xml",
        "http://127.0.0.1:9/courier.xml?api_key=***",
    ]


def test_outlines_are_counted_whatever_the_spelling_of_the_names() -> None:
    document = (
        b'<opml xmlns:o="http://opml.org/spec2" version="2.0"><body>'
        b'<o:outline xmlURL="https://a.example/"/><outline xmlUrl="https://a.example/"/>'
        b'<outline text="a folder"/></body></opml>'
    )
    assert dict(listed_feed_urls(document)) == {"https://a.example/": 2}
    assert not listed_feed_urls(b"")
    assert not listed_feed_urls(b"\x00not xml")


def test_an_export_is_valid_xml_and_reads_back_the_same() -> None:
    feeds = [
        ("https://a.example/feed?x=1&api_key=K1", None, 'Quotes " & <angles> \t tab'),
        ("https://b.example/feed", "Named\nTwo lines", "ignored"),
        ("https://c.example/feed", None, "Bell\x07 and \ufffe dropped"),
        ("https://d.example/feed", "", ""),
    ]
    document = opml_document(feeds, NOW)

    root = ElementTree.fromstring(document)  # a strict parser
    assert root.findtext("head/dateCreated") == "Mon, 30 Nov 2026 12:00:00 GMT"
    parsed = listparser.parse(document)
    assert not parsed.bozo, parsed.bozo_exception
    assert [(feed.url, feed.title) for feed in parsed.feeds] == [
        ("https://a.example/feed?x=1&api_key=K1", 'Quotes " & <angles> \t tab'),
        ("https://b.example/feed", "Named\nTwo lines"),
        ("https://c.example/feed", "Bell and  dropped"),
        ("https://d.example/feed", "https://d.example/feed"),
    ]
    plan = read_opml(document)
    assert [feed.url for feed in plan.feeds] == [url for url, _, _ in feeds]
    assert not plan.invalid
    assert not plan.repeated


def test_an_export_of_many_feeds_lists_each_once() -> None:
    feeds = [(f"https://outlet{n}.example/feed.xml", None, f"Outlet {n}") for n in range(10_000)]
    plan = read_opml(opml_document(feeds, NOW))
    assert len(plan.feeds) == 10_000
    assert not plan.repeated
