"""OPML in and out as pure functions: the document an export writes, read back."""

from __future__ import annotations

from datetime import UTC, datetime
from xml.etree import ElementTree

import listparser

from monitor.service.opml import opml_document, read_opml

NOW = datetime(2026, 11, 30, 12, 0, tzinfo=UTC)


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
