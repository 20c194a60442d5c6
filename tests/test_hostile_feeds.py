"""Broken and hostile feeds served by a real server: each is dealt with, and the other feeds
are still processed."""

from __future__ import annotations

import time
from pathlib import Path
from typing import Any

import pytest
import structlog

from monitor.app.once import run_once
from monitor.parse.article import decode_page
from tests.test_pipeline import serve_seed
from tests.test_xml_guard import billion_laughs, quadratic_blowup
from tests.web import Item, Receiver, Site, rss

ITEMS = [Item(title=f"Story {n}: café", link=f"https://news.example/{n}") for n in range(3)]
UTF8 = rss(ITEMS)
LATIN1 = UTF8.replace("encoding='utf-8'", "encoding='iso-8859-1'")

READABLE = {
    "a UTF-8 byte-order mark": (UTF8.encode("utf-8-sig"), "application/rss+xml"),
    "UTF-16 with a byte-order mark": (
        UTF8.replace("utf-8", "utf-16").encode("utf-16"),
        "application/rss+xml",
    ),
    "a declared latin-1 charset": (LATIN1.encode("latin-1"), "text/xml; charset=iso-8859-1"),
    "latin-1 bytes labelled UTF-8": (
        UTF8.encode("latin-1"),
        "application/rss+xml; charset=utf-8",
    ),
    "an unknown charset": (UTF8.encode(), "application/rss+xml; charset=x-no-such-thing"),
    "no content type at all": (UTF8.encode(), "application/octet-stream"),
}


@pytest.mark.parametrize("case", READABLE)
async def test_feeds_with_encoding_trouble_still_yield_their_items(
    site: Site, make_settings: Any, case: str
) -> None:
    body, content_type = READABLE[case]
    url = site.serve("/feed.xml", body, content_type=content_type)
    with structlog.testing.capture_logs() as logs:
        report = await run_once(make_settings([url]))
    assert report.cycle.failed == 0
    [checked] = [entry for entry in logs if entry["event"] == "feed checked"]
    assert checked["entries"] == 3


async def test_unreadable_feeds_fail_with_a_reason_and_the_others_go_on(
    site: Site, receiver: Receiver, fixtures_dir: Path, make_settings: Any
) -> None:
    broken = {
        site.serve("/empty.xml", b""): "empty body",
        site.serve("/bom-only.xml", b"\xef\xbb\xbf  \n"): "empty body",
        site.serve(
            "/page.xml",
            "<!DOCTYPE html><html><head><title>Home</title></head><body><p>Hi</p></body></html>",
            content_type="text/html; charset=utf-8",
        ): "not a feed",
        site.serve("/json.xml", b'{"items": []}', content_type="application/json"): "not a feed",
    }
    good = serve_seed(site, fixtures_dir)
    with structlog.testing.capture_logs([structlog.contextvars.merge_contextvars]) as logs:
        report = await run_once(make_settings([*broken, good], receiver.url))
    assert (report.cycle.feeds, report.cycle.failed, report.delivery.sent) == (5, 4, 1)
    failures = {e["feed_url"]: e["error"] for e in logs if e["event"] == "feed check failed"}
    for url, reason in broken.items():
        assert reason in failures[url]


@pytest.mark.parametrize("attack", [quadratic_blowup, billion_laughs])
@pytest.mark.parametrize("encoding", ["utf-8", "utf-16"])
async def test_entity_bombs_are_defused_and_the_other_feeds_go_on(
    site: Site,
    receiver: Receiver,
    fixtures_dir: Path,
    make_settings: Any,
    attack: Any,
    encoding: str,
) -> None:
    bomb = site.serve(
        "/bomb.xml",
        attack().replace("{encoding}", encoding).encode(encoding),
        content_type="application/rss+xml",
    )
    good = serve_seed(site, fixtures_dir)
    started = time.perf_counter()
    with structlog.testing.capture_logs([structlog.contextvars.merge_contextvars]) as logs:
        report = await run_once(make_settings([bomb, good], receiver.url))
    assert time.perf_counter() - started < 10
    assert (report.cycle.feeds, report.cycle.failed, report.delivery.sent) == (2, 0, 1)
    [warning] = [e for e in logs if e["event"] == "feed is ill-formed but readable"]
    assert warning["feed_url"] == bomb
    assert "entity declarations removed" in warning["error"]


def test_article_pages_are_decoded_as_browsers_do() -> None:
    text = "Багдад и Вашингтон"
    html = f"<html><head><meta charset='windows-1251'></head><body>{text}</body></html>"
    assert decode_page(html.encode("cp1251"), None) == html
    http_equiv = html.replace(
        "<meta charset='windows-1251'>",
        '<meta http-equiv="Content-Type" content="text/html; charset=windows-1251">',
    )
    assert decode_page(http_equiv.encode("cp1251"), None) == http_equiv
    # The server's charset wins over the page's, and a byte-order mark over both.
    assert decode_page(html.encode("koi8-r"), "koi8-r") == html
    assert decode_page(b"\xef\xbb\xbf" + html.encode("utf-8"), "koi8-r") == html
    # "iso-8859-1" means windows-1252 on the web: 0x93 and 0x94 are curly quotes.
    assert decode_page(b"<p>\x93Iraq\x94</p>", "ISO-8859-1") == "<p>“Iraq”</p>"
    # A wrong label falls through to the next clue; with none left, trafilatura guesses.
    assert decode_page(html.encode("cp1251"), "utf-8") == html
    assert decode_page("<p>déjà</p>".encode("cp1252"), "utf-8") == "<p>déjà</p>".encode("cp1252")


POISON_LEAD = "Iraqi and American officials discussed the withdrawal of U.S. troops in Baghdad."


async def test_a_poisoned_entry_never_stops_its_feed(
    site: Site, receiver: Receiver, fixtures_dir: Path, make_settings: Any
) -> None:
    """Links with hosts no IDNA encoder takes, and pages in charsets that are no WHATWG
    encoding, fall back to the feed's text; the feed and its other entries go on."""
    page = "<html><head>{meta}</head><body><article><p>{text}</p></article></body></html>"
    header = site.serve(
        "/punycode-header",
        page.format(meta="", text=POISON_LEAD * 5),
        content_type="text/html; charset=punycode",
    )
    meta = site.serve(
        "/punycode-meta",
        page.format(meta="<meta charset=punycode>", text=POISON_LEAD * 5),
        content_type="text/html",
    )
    links = [
        "http://news..example/x",
        "http://" + "a" * 64 + ".example/x",
        header,
        meta,
    ]
    poisoned = tuple(
        Item(
            title=f"Iraq talks, part {n}: U.S. troop withdrawal", link=link, description=POISON_LEAD
        )
        for n, link in enumerate(links)
    )
    feed = serve_seed(site, fixtures_dir, extra=poisoned)
    with structlog.testing.capture_logs([structlog.contextvars.merge_contextvars]) as logs:
        report = await run_once(make_settings([feed], receiver.url))
    assert (report.cycle.feeds, report.cycle.failed) == (1, 0)
    assert report.cycle.new_articles == 1 + len(links)  # each stored, with the feed's text
    assert report.delivery.sent >= 1
    refused = {e["article_url"] for e in logs if e["event"].startswith("article fetch refused")}
    assert refused == set(links[:2])
    assert not [e for e in logs if e["event"] in ("feed check crashed", "feed check failed")]
