"""Entity declarations never reach feedparser, in any encoding; the blowups finish fast."""

from __future__ import annotations

import time
import tracemalloc

import pytest

from monitor.parse.feed import FeedParseError, parse_feed
from monitor.parse.xml_guard import UnsafeXMLError, remove_entity_declarations

ITEM = "<item><title>Iraq talks</title><link>https://news.example/1</link></item>"


def quadratic_blowup() -> str:
    """One 50 KB entity referenced 20,000 times: 110 KB on the wire, 10⁹ characters expanded."""
    return (
        '<?xml version="1.0" encoding="{encoding}"?>\n'
        f'<!DOCTYPE rss [<!ENTITY a "{"A" * 50_000}">]>\n'
        f"<rss version='2.0'><channel><title>{'&a;' * 20_000}</title>{ITEM}</channel></rss>"
    )


def billion_laughs() -> str:
    entities = ['<!ENTITY lol0 "lol">'] + [
        f'<!ENTITY lol{n} "{f"&lol{n - 1};" * 10}">' for n in range(1, 10)
    ]
    return (
        '<?xml version="1.0" encoding="{encoding}"?>\n'
        f"<!DOCTYPE rss [{''.join(entities)}]>\n"
        f"<rss version='2.0'><channel><title>&lol9;</title>{ITEM}</channel></rss>"
    )


ENCODINGS = {
    "utf-8": lambda text: text.encode("utf-8"),
    "utf-8 with BOM": lambda text: text.encode("utf-8-sig"),
    "utf-16 with BOM": lambda text: text.encode("utf-16"),
    "utf-16-le without BOM": lambda text: text.encode("utf-16-le"),
    "utf-16-be without BOM": lambda text: text.encode("utf-16-be"),
    "utf-32 with BOM": lambda text: text.encode("utf-32"),
    "utf-32-be without BOM": lambda text: text.encode("utf-32-be"),
}


@pytest.mark.parametrize("attack", [quadratic_blowup, billion_laughs])
@pytest.mark.parametrize("encoding", ENCODINGS)
def test_entity_attacks_finish_fast_with_bounded_memory(attack: object, encoding: str) -> None:
    declared = encoding.split()[0].removesuffix("-le").removesuffix("-be")
    body = ENCODINGS[encoding](attack().replace("{encoding}", declared))  # type: ignore[operator]

    tracemalloc.start()
    try:
        started = time.perf_counter()
        feed = parse_feed(body, "https://news.example/feed.xml")
        elapsed = time.perf_counter() - started
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()

    assert elapsed < 3
    assert peak < 64 * 1024 * 1024
    assert [entry.title for entry in feed.entries] == ["Iraq talks"]
    assert len(feed.title) < 100_000  # the references stay unexpanded
    assert feed.warning is not None
    assert "entity declarations removed" in feed.warning


def test_the_charset_a_server_declares_is_searched_too() -> None:
    # A body whose bytes say nothing, labelled UTF-16 by the server only.
    body = billion_laughs().replace(' encoding="{encoding}"', "").encode("utf-16-le")
    guarded = remove_entity_declarations(body, "utf-16")
    assert guarded.removed
    assert "ENTITY" not in guarded.body.decode("utf-16-le")


def test_utf7_markup_is_found_where_the_xml_declaration_says() -> None:
    # In UTF-7, "+ADw-" is "<": an ASCII search would never see this DOCTYPE.
    body = (
        b'<?xml version="1.0" encoding="utf-7"?>'
        b'+ADw-!DOCTYPE r +AFs-+ADw-!ENTITY a "AAAA"+AD4-+AF0-+AD4-<rss/>'
    )
    guarded = remove_entity_declarations(body)
    assert guarded.removed
    assert "ENTITY" not in guarded.body.decode("utf-7")


def test_ebcdic_is_searched_too() -> None:
    body = billion_laughs().replace("{encoding}", "cp037").encode("cp037")
    guarded = remove_entity_declarations(body)
    assert guarded.removed
    assert "ENTITY" not in guarded.body.decode("cp037")
    feed = parse_feed(body, "https://news.example/feed.xml")
    assert [entry.title for entry in feed.entries] == ["Iraq talks"]


def test_a_public_doctype_and_comments_stay() -> None:
    body = (
        b'<?xml version="1.0"?>\n<!-- made by hand -->\n'
        b'<!DOCTYPE rss PUBLIC "-//Netscape Communications//DTD RSS 0.91//EN" '
        b'"http://my.netscape.com/publish/formats/rss-0.91.dtd" '
        b'[<!ENTITY a "x>]y"> <!-- ] > --> ]>\n<rss><title>&a;</title></rss>'
    )
    guarded = remove_entity_declarations(body)
    assert guarded.body == (
        b'<?xml version="1.0"?>\n<!-- made by hand -->\n'
        b'<!DOCTYPE rss PUBLIC "-//Netscape Communications//DTD RSS 0.91//EN" '
        b'"http://my.netscape.com/publish/formats/rss-0.91.dtd">\n<rss><title>&a;</title></rss>'
    )


def test_stray_entity_declarations_before_the_root_go_too() -> None:
    body = b'<?xml version="1.0"?><!ENTITY a "AAAA"><!entity b "B"><rss>&a;</rss>'
    assert remove_entity_declarations(body).body == b'<?xml version="1.0"?><rss>&a;</rss>'


def test_declarations_inside_the_document_are_content_and_stay() -> None:
    body = b"<rss><description><![CDATA[<!DOCTYPE x [<!ENTITY a 'b'>]>]]></description></rss>"
    guarded = remove_entity_declarations(body)
    assert (guarded.body, guarded.removed) == (body, False)


def test_a_feed_without_declarations_is_returned_untouched() -> None:
    body = f"<?xml version='1.0'?><rss><channel>{ITEM}</channel></rss>".encode()
    guarded = remove_entity_declarations(body)
    assert guarded.body is body
    assert not guarded.removed


def test_a_declaration_that_never_ends_is_refused() -> None:
    with pytest.raises(UnsafeXMLError, match="never ends"):
        remove_entity_declarations(b'<!DOCTYPE rss [<!ENTITY a "AAAA')
    with pytest.raises(FeedParseError, match="refused: an entity or DOCTYPE declaration"):
        parse_feed(b'<!DOCTYPE rss [<!ENTITY a "AAAA', "https://news.example/feed.xml")
