"""A seeded generator of hostile feed entries and article pages, and the good entries mixed in
with them (see test_fuzz_entries.py)."""

from __future__ import annotations

import gzip
import random
import string
from collections.abc import Callable
from dataclasses import dataclass
from xml.sax.saxutils import escape

from aiohttp import web

from tests.web import Site

FUZZ_WORD = "zorblax"  # hostile entries that mention it go through every article stage
GOOD_WORD = "quuxcorp"  # good entries: the only ones an endpoint takes

# A topic of one word each: the fuzz topic has no endpoint, the good one has the receiver.
FUZZ_TOPICS: list[dict[str, object]] = [
    {
        "name": "fuzz",
        "terms": {"fuzz": [FUZZ_WORD]},
        "rules": [{"name": "fuzz", "level": "alert", "all": ["fuzz"]}],
    },
    {
        "name": "good",
        "terms": {"good": [GOOD_WORD]},
        "rules": [{"name": "good", "level": "alert", "all": ["good"]}],
    },
]

TEXTS = [
    "",
    " ",
    "&amp;&lt;&gt;&quot;&#39;",
    "&nbsp;&shy;&zwnj;&unknown;&#0;&#xD800;&#x110000;&#99999999;",
    "<![CDATA[ ]]> <b>bold</b> <script>alert(1)</script> <!-- comment -->",
    "\u202etxet lanoitceridib\u202c \u200b\u200d\ufeff",
    "e\u0301\u0301\u0301 ZA̡͊͠͝LGΌ ﷽ 𝕳𝖊𝖑𝖑𝖔 🇮🇶🇺🇸 👩‍👩‍👧",
    "Багдад بغداد 巴格达 バグダッド בגדד",
    "\x01\x02\x1b[31m\x7f",
    "%s %d {0} {} ${HOME} `id` $(id) ' OR 1=1 --",
    "<a href='javascript:alert(1)'>x</a><img src=x onerror=alert(1)>",
    "&lt;/title&gt;&lt;/item&gt;&lt;/channel&gt;",
]
DATES = [
    "",
    "yesterday",
    "Mon, 32 Jan 2024 25:61:61 GMT",
    "Thu, 01 Jan 1970 00:00:00 +0000",
    "Fri, 31 Dec 9999 23:59:59 +9999",
    "0000-00-00T00:00:00Z",
    "2024-02-30T12:00:00-25:00",
    "-1",
    "99999999999999999999",
    "Sat, 27 Jan 2024 10:00:00 GMT",
]
# Links the gate or the client must turn down, each by the stage that reads it.
BAD_HOST_LINKS = [
    "http://news..example/{n}",
    "http://" + "a" * 64 + ".example/{n}",
    "http://" + ".".join(["b" * 63] * 5) + ".example/{n}",
    "http://xn--.example/{n}",
    "http://xn--zz-.example/{n}",
    "http://[::1/{n}",
    "http://[fe80::1%25eth0]/{n}",
    "http://host:99999/{n}",
    "http://host:-1/{n}",
    "http://10.0.0.1/{n}",
    "http://169.254.169.254/latest/meta-data/{n}",
    "http://0x7f.1/{n}",
    "http://u:p@/{n}",
    "http:///{n}",
    "https://exa mple.example/{n}",
    "http://%65xample.example/{n}",
    "http://a\\@127.0.0.1/{n}",
    "http://ex\u00adample.example/{n}",
    "http://\u0378.example/{n}",
    "javascript:alert({n})",
    "data:text/html,{n}",
    "ftp://files.example/{n}",
    "/relative/{n}",
    "",
]
CHARSETS = [
    "punycode",
    "utf-7",
    "rot13",
    "idna",
    "base64",
    "zlib",
    "x-user-defined",
    "iso-2022-kr",
    "hz-gb-2312",
    "utf-16",
    "utf-32",
    "UTF8 ",
    "latin1",
    "x-no-such-thing",
    '"utf-8',
    "",
]


@dataclass(frozen=True)
class Entry:
    """One RSS item as raw XML, and whether it is a good one (with its link)."""

    xml: str
    good_link: str | None = None


def _page(
    body: bytes, content_type: str, *, status: int = 200, **headers: str
) -> Callable[[web.Request], object]:
    async def handler(_request: web.Request) -> web.Response:
        response = web.Response(body=body, status=status, headers=headers)
        response.headers["Content-Type"] = content_type
        return response

    return handler


def article_html(title: str, text: str, meta: str = "") -> str:
    return (
        f"<html><head>{meta}<title>{title}</title></head><body><article><h1>{title}</h1>"
        f"<p>{text}</p></article></body></html>"
    )


def serve_hostile_pages(site: Site, host: str) -> list[str]:
    """Article pages no browser would be proud of, served at ``host`` (it resolves to the
    site); returns their URLs."""
    text = f"{FUZZ_WORD} " + "the page says very little of note here. " * 30
    html = article_html(FUZZ_WORD, text)
    pages: dict[str, Callable[[web.Request], object]] = {}
    for number, charset in enumerate(CHARSETS):
        pages[f"/charset-header-{number}"] = _page(html.encode(), f"text/html; charset={charset}")
        meta = f"<meta charset={charset}>"
        pages[f"/charset-meta-{number}"] = _page(
            article_html(FUZZ_WORD, text, meta).encode(), "text/html"
        )
        http_equiv = f'<meta http-equiv="Content-Type" content="text/html; charset={charset}">'
        pages[f"/charset-equiv-{number}"] = _page(
            article_html(FUZZ_WORD, text, http_equiv).encode("utf-16"), "text/html"
        )
    rng = random.Random(7)
    pages |= {
        "/empty": _page(b"", "text/html"),
        "/binary": _page(rng.randbytes(4096), "text/html"),
        "/bom-garbage": _page(b"\xef\xbb\xbf" + rng.randbytes(2048), "text/html"),
        "/utf16-bom-odd": _page(b"\xff\xfe" + b"<\x00p\x00>", "text/html; charset=utf-8"),
        "/nul": _page(html.replace("page", "pa\x00ge").encode(), "text/html"),
        "/huge": _page(("<p>" + "x" * 1_000_000 + "</p>").encode() * 7, "text/html"),
        "/deep": _page(("<div>" * 3000 + text + "</div>" * 3000).encode(), "text/html"),
        "/bad-gzip": _page(b"not gzip at all", "text/html", **{"Content-Encoding": "gzip"}),
        "/gzip-bomb": _page(
            gzip.compress(b"<p>" + b"a" * 10_000_000), "text/html", **{"Content-Encoding": "gzip"}
        ),
        "/image": _page(b"\x89PNG\r\n\x1a\n" + rng.randbytes(256), "image/png"),
        "/json": _page(b'{"title": "zorblax"}', "application/json"),
        "/500": _page(b"oops", "text/html", status=500),
        "/410": _page(b"gone", "text/html", status=410),
        "/to-bad-host": _page(b"", "text/html", status=302, Location="http://news..example/x"),
        "/to-private": _page(b"", "text/html", status=301, Location="http://10.0.0.1/x"),
        "/to-javascript": _page(b"", "text/html", status=302, Location="javascript:alert(1)"),
        "/loop": _page(b"", "text/html", status=302, Location="/loop"),
        "/entities": _page(
            (
                '<!DOCTYPE html [<!ENTITY a "aaaaaaaaaa"><!ENTITY b "&a;&a;&a;&a;&a;&a;">]>'
                + article_html(FUZZ_WORD, "&b;&b;&b; " + text)
            ).encode(),
            "text/html",
        ),
    }
    urls = []
    for path, handler in pages.items():
        site.handle(path, handler)  # type: ignore[arg-type]
        urls.append(site.url(path).replace("127.0.0.1", host, 1))
    return urls


def hostile_entry(rng: random.Random, n: int, pages: list[str], port: int) -> Entry:
    """A hostile item; about a third mention the fuzz word and reach every article stage."""
    deep = rng.random() < 0.35
    title = rng.choice(TEXTS) + (f" {FUZZ_WORD} " if deep else " ") + rng.choice(TEXTS)
    if rng.random() < 0.05:
        title += " " + "long " * rng.choice([300, 2000])
    roll = rng.random()
    if roll < 0.4:
        link = rng.choice(BAD_HOST_LINKS).format(n=n)
    elif roll < 0.9:
        link = rng.choice(pages) + rng.choice(["", f"?n={n}", f"?n={n}&x=>|<", f"#{n}"])
    else:  # an exotic but well-formed name (the test's resolver sends it to the site)
        host = rng.choice(["ñews.example", "xn--nws-hoa.example", "NEWS.EXAMPLE", "news.example."])
        link = f"http://{host}:{port}/missing/{n}?q=%ZZ%00"
    description = rng.choice(TEXTS)
    if rng.random() < 0.05:
        description = escape("<p>" + "word " * 3_000 + "</p>")
    guid = rng.choice([f"g{n}", "", "same-guid", "x" * 5000, link])
    parts = [
        "<item>",
        f"<title>{_xml_text(title, rng)}</title>",
        f"<link>{escape(link)}</link>",
        f"<description>{_xml_text(description, rng)}</description>",
        f"<guid isPermaLink='{rng.choice(['true', 'false'])}'>{escape(guid)}</guid>",
    ]
    date = rng.choice(DATES)
    if date:
        parts.append(f"<pubDate>{escape(date)}</pubDate>")
    if rng.random() < 0.1:
        parts.append(f"<content:encoded><![CDATA[{title} {FUZZ_WORD} <p>x</p>]]></content:encoded>")
    parts.append("</item>")
    return Entry("".join(parts))


def _xml_text(text: str, rng: random.Random) -> str:
    """Text as it appears in feeds: escaped, raw entities left in, or double-escaped HTML."""
    cleaned = "".join(c for c in text if c in "\t\n\r" or ord(c) >= 0x20)  # XML 1.0 characters
    mode = rng.random()
    if mode < 0.5:
        return escape(cleaned)
    if mode < 0.8:  # entity references left raw: undefined in XML, so feedparser reads loosely
        return cleaned.replace("<", "&lt;")
    return escape(escape(cleaned))


def good_entry(rng: random.Random, site: Site, n: int) -> Entry:
    """A well-formed item, its page on the site with a text no other entry shares."""
    words = [
        "".join(rng.choice(string.ascii_lowercase) for _ in range(rng.randint(5, 9)))
        for _ in range(60)
    ]
    title = f"{GOOD_WORD} {' '.join(words[:6])}"
    text = f"{GOOD_WORD} " + " ".join(words) + ". " + " ".join(reversed(words)) + "."
    link = site.serve(
        f"/good/{n}", article_html(title, text), content_type="text/html; charset=utf-8"
    )
    xml = (
        f"<item><title>{escape(title)}</title><link>{escape(link)}</link>"
        f"<description>{escape(text[:200])}</description>"
        f"<guid isPermaLink='false'>good-{n}</guid></item>"
    )
    return Entry(xml, good_link=link)


def feed_xml(entries: list[Entry], encoding: str) -> bytes:
    """An RSS document in ``encoding``; characters it cannot hold become references."""
    head = (
        f"<?xml version='1.0' encoding='{encoding}'?>\n"
        "<rss version='2.0' xmlns:content='http://purl.org/rss/1.0/modules/content/'>"
        "<channel><title>Fuzz &amp; co</title><link>https://news.example/</link>"
        "<description>hostile</description>"
    )
    body = head + "".join(entry.xml for entry in entries) + "</channel></rss>"
    return body.encode(encoding, errors="xmlcharrefreplace")
