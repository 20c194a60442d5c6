"""Read well-formed RSS 2.0, RSS 1.0 (RDF) and Atom 1.0 with lxml, as feedparser would read them.

feedparser spends about 1 ms per entry in Python-level SAX callbacks; lxml builds the tree in C.
This reader reproduces, for the fields monitor keeps (title, link, id, summary, content, dates),
the rules feedparser applies: which of several elements wins, a permalink GUID standing in for a
missing link, content copied to an empty summary, relative links resolved against the feed's
address, its repair of doubly encoded UTF-8 and of C1 control characters. Dates are parsed by
feedparser's own date parser. Anything outside that ground (an ill-formed document, an encoding in
doubt, xml:base, a DOCTYPE, nested feeds, elements whose handling it does not copy) raises
``FastPathDeclinedError``, and the caller hands the document to feedparser itself.
"""

from __future__ import annotations

import contextlib
import re
import urllib.parse
from dataclasses import dataclass, field
from typing import Any
from xml.sax.saxutils import escape

import lxml.etree
from feedparser.datetimes import _parse_date as feedparser_date

from monitor.parse.encoding import FastPathDeclinedError, xml_codec

ATOM = "http://www.w3.org/2005/Atom"
RDF = "http://www.w3.org/1999/02/22-rdf-syntax-ns#"
RSS_10 = "http://purl.org/rss/1.0/"
# feedparser's names for the namespaces whose elements matter here (it lower-cases the URI).
PREFIXES = {
    "": "",
    "http://backend.userland.com/rss": "",
    "http://blogs.law.harvard.edu/tech/rss": "",
    RSS_10: "",
    ATOM.lower(): "",
    "http://purl.org/rss/1.0/modules/rss091#": "",
    "http://purl.org/rss/1.0/modules/content/": "content",
    "http://purl.org/dc/elements/1.1/": "dc",
    "http://purl.org/dc/terms/": "dcterms",
    "http://search.yahoo.com/mrss": "media",
    "http://search.yahoo.com/mrss/": "media",
    "http://www.itunes.com/dtds/podcast-1.0.dtd": "itunes",
    "http://example.com/dtds/podcast-1.0.dtd": "itunes",
    "http://www.w3.org/1999/xhtml": "xhtml",
    RDF.lower(): "rdf",
}
# Namespaces feedparser knows under another name: an element there is read by a handler this
# module does not copy, so such a document goes to feedparser.
FOREIGN_KNOWN = ("http://purl.org/atom/ns#", "http://my.netscape.com/rdf/simple/0.9/")
TITLE = {"title", "dc:title", "media:title"}
ENTRY = ("item", "entry")
DESCRIPTION = {"description", "dc:description", "media:description"}
SUMMARY = {"summary", "itunes:summary"}
CONTENT = {"content", "content:encoded", "fullitem"}
PUBLISHED = {"pubdate", "published", "issued", "dcterms:issued"}
UPDATED = {"updated", "modified", "lastbuilddate", "dc:date", "dcterms:modified"}
# Elements that switch feedparser into another context (or another feed) inside an entry.
DECLINED = {"image", "textinput", "item", "entry", "channel", "feed", "rss", "abstract", "body"}
DECLINED |= {"xhtml:body", "svg", "math", "rdf:rdf"}
HTML_TYPES = {"text/html", "application/xhtml+xml"}
TEXT_TYPES = {"text/plain", *HTML_TYPES}
URI_FIXER = re.compile("^([A-Za-z][A-Za-z0-9+-.]*://)(/*)(.*?)")
LINK_ENTITY = re.compile("&([A-Za-z0-9_]+);")
C1_CONTROL = re.compile("[\x80-\x9f]")
UNDEFINED_IN_CP1252 = b"\x81\x8d\x8f\x90\x9d"
C1_AS_CP1252 = {
    n: bytes([n]).decode("cp1252") for n in range(128, 160) if n not in UNDEFINED_IN_CP1252
}
XML_PARSER_OPTIONS = {"resolve_entities": False, "no_network": True, "load_dtd": False}


@dataclass(frozen=True, slots=True)
class RawFeed:
    """What feedparser would have said of the fields monitor reads: the feed's title, its
    ``ttl`` and, per entry, a dict with feedparser's keys."""

    title: str
    ttl: str | None
    entries: list[dict[str, Any]]


def read_xml_feed(body: bytes, base_url: str, content_type: str | None) -> RawFeed:
    """Read ``body`` as feedparser would, or raise FastPathDeclinedError."""
    fix_utf8 = xml_codec(body, content_type) == "utf-8"
    if b"xml:base" in body or b"<!DOCTYPE" in body[:4096].upper():
        raise FastPathDeclinedError("xml:base or a DOCTYPE")
    if not base_url.lower().startswith(("http://", "https://")):
        raise FastPathDeclinedError("no http(s) address to resolve links against")
    parser = lxml.etree.XMLParser(**XML_PARSER_OPTIONS)
    try:
        root = lxml.etree.fromstring(body, parser)
    except lxml.etree.XMLSyntaxError as error:
        raise FastPathDeclinedError(f"not well-formed: {error}") from None
    reader = _Reader(base_url, fix_utf8=fix_utf8)
    channel = _channel(root)
    entries: list[dict[str, Any]] = []
    reader.feed_level(root, _FeedState(), entries)
    title, ttl = reader.feed_title_and_ttl(channel)
    return RawFeed(title=title, ttl=ttl, entries=entries)


def _channel(root: Any) -> Any:
    """The element holding the feed's own title: rss/channel, rdf:RDF/channel or the Atom feed."""
    tag = root.tag if isinstance(root.tag, str) else ""
    if tag == "rss":
        found = [child for child in root if _name(child) == "channel"]
    elif tag == f"{{{RDF}}}RDF":
        found = [child for child in root if child.tag == f"{{{RSS_10}}}channel"]
    elif tag == f"{{{ATOM}}}feed":
        found = [root]
    else:
        raise FastPathDeclinedError(
            f"root element {tag or 'none'} is not RSS 2.0, RSS 1.0 or Atom 1.0"
        )
    if len(found) != 1:
        raise FastPathDeclinedError("not exactly one channel")
    return found[0]


def _name(element: Any) -> str:
    """feedparser's name for an element: its namespace's known prefix, lower-cased."""
    tag = element.tag
    if not isinstance(tag, str):
        return ""  # a comment or processing instruction
    if tag[0] != "{":
        return tag.lower()
    namespace, local = tag[1:].split("}", 1)
    lowered = namespace.lower()
    if "backend.userland.com/rss" in lowered:
        lowered = "http://backend.userland.com/rss"
    prefix = PREFIXES.get(lowered)
    if prefix is None:
        if lowered in FOREIGN_KNOWN:
            raise FastPathDeclinedError(f"namespace {namespace}")
        prefix = (element.prefix or "").lower()  # feedparser falls back on the document's prefix
    return f"{prefix}:{local.lower()}" if prefix else local.lower()


def _attributes(element: Any) -> dict[str, str]:
    """Attributes by their local names, lower-cased (as feedparser sees them)."""
    return {str(key).rsplit("}", 1)[-1].lower(): value for key, value in element.attrib.items()}


def _text(element: Any, *, markup: bool, kind: str = "text/html") -> str:
    """The element's text; with ``markup``, child elements are serialised into it (feedparser
    keeps embedded markup, escaping the text between only in XHTML). Without, a child element
    means FastPathDeclinedError."""
    if len(element) == 0:
        return element.text or ""
    if not markup:
        raise FastPathDeclinedError(f"markup inside <{_name(element)}>")
    quote = escape if kind == "application/xhtml+xml" else str
    parts = [quote(element.text or "")]
    for child in element:
        if isinstance(child.tag, str):
            parts.append(lxml.etree.tostring(child, encoding="unicode", with_tail=False))
        parts.append(quote(child.tail or ""))
    return "".join(parts)


@dataclass
class _FeedState:
    """feedparser's state outside entries that still reaches into them: a feed-level summary,
    and its "has content" flag, which only the end of an entry resets."""

    summary: bool = False
    has_content: bool = False


@dataclass
class _EntryState:
    """feedparser's parser state while inside one entry, for the fields read here."""

    fields: dict[str, Any] = field(default_factory=dict)
    depths: dict[str, int] = field(default_factory=dict)
    title_depth: int = -1
    has_content: bool = False


class _Reader:
    def __init__(self, base_url: str, *, fix_utf8: bool) -> None:
        self.base_url = base_url
        self.fix_utf8 = fix_utf8

    def finish(self, value: str, *, resolve: bool = False) -> str:
        """feedparser's last touches on every value: trimmed, resolved against the feed's
        address (links and permalink GUIDs), doubly encoded UTF-8 undone, C1 controls read as
        windows-1252."""
        value = value.strip()
        if resolve and value:
            value = self.resolve(value)
        if value.isascii():
            return value  # both repairs leave ASCII unchanged
        if self.fix_utf8:
            with contextlib.suppress(UnicodeEncodeError, UnicodeDecodeError):
                value = value.encode("iso-8859-1").decode("utf-8")
        return value.translate(C1_AS_CP1252) if C1_CONTROL.search(value) else value

    def resolve(self, uri: str) -> str:
        uri = URI_FIXER.sub(r"\1\3", uri)
        try:
            return urllib.parse.urljoin(self.base_url, uri)
        except ValueError:
            return ""

    def feed_title_and_ttl(self, channel: Any) -> tuple[str, str | None]:
        """The first non-empty feed-level title (feedparser ignores later ones at that depth)."""
        children = [(child, _name(child)) for child in channel]
        first_entry = next((n for n, (_, name) in enumerate(children) if name in ENTRY), None)
        titles = [(n, child) for n, (child, name) in enumerate(children) if name in TITLE]
        if any(_name(child) == "media:title" for _, child in titles) or (
            first_entry is not None and any(n > first_entry for n, _ in titles)
        ):
            raise FastPathDeclinedError("a feed title feedparser might read otherwise")
        values = [self.finish(_text(child, markup=False)) for _, child in titles]
        title = next((value for value in values if value), "")
        if any(_content_type(child, "text/plain") != "text/plain" for _, child in titles) or (
            "<" in title
        ):
            raise FastPathDeclinedError(
                "a feed title in markup"
            )  # feedparser rewrites it; kept verbatim
        ttls = [child for child, name in children if name == "ttl"]
        ttl = self.finish(_text(ttls[-1], markup=False)) if ttls else None
        return title, ttl

    def feed_level(self, parent: Any, feed: _FeedState, entries: list[dict[str, Any]]) -> None:
        """Find the entries in document order, following the feed-level state between them."""
        for child in parent:
            name = _name(child)
            if name in ENTRY:
                entries.append(self.entry(child, has_content=feed.has_content))
                feed.has_content = False
            elif name in CONTENT:
                feed.has_content = True
                feed.summary = feed.summary or _content_type(child, "text/plain") in TEXT_TYPES
            elif name in DESCRIPTION or name in SUMMARY:
                if feed.summary and not feed.has_content:
                    feed.has_content = True
                feed.summary = feed.summary or name in SUMMARY
            elif name not in ("image", "textinput", "source", ""):
                self.feed_level(child, feed, entries)

    def entry(self, item: Any, *, has_content: bool) -> dict[str, Any]:
        attributes = _attributes(item)
        if "href" in attributes or "lastmod" in attributes:
            raise FastPathDeclinedError("a CDF item")
        state = _EntryState(has_content=has_content)
        about = item.get(f"{{{RDF}}}about")
        if about:
            state.fields["id"] = about
        self.walk(item, state, 0)
        return state.fields

    def walk(self, parent: Any, state: _EntryState, depth: int) -> None:
        for child in parent:
            name = _name(child)
            if not name:
                continue
            if name in DECLINED:
                raise FastPathDeclinedError(f"<{name}> inside an entry")
            if name == "source":
                state.title_depth = -1  # feedparser forgets the title's depth here
                continue  # what a source says goes to the source, not the entry
            self.element(name, child, state, depth + 1)

    def element(self, name: str, element: Any, state: _EntryState, depth: int) -> None:
        if name in TITLE:
            self.title(name, element, state, depth)
        elif name == "link":
            self.link(element, state)
        elif name in ("guid", "id"):
            self.guid(element, state, depth)
        elif name in DESCRIPTION or name in SUMMARY:
            self.summary(element, state, depth, rss=name in DESCRIPTION)
        elif name in CONTENT:
            default = "text/html" if name != "content" else "text/plain"
            self.content(element, state, default)
        elif name in PUBLISHED or name in UPDATED:
            key = "published_parsed" if name in PUBLISHED else "updated_parsed"
            state.fields[key] = feedparser_date(self.finish(_text(element, markup=False)))
        else:
            self.walk(element, state, depth)

    @staticmethod
    def store(state: _EntryState, key: str, value: str, depth: int) -> None:
        """feedparser keeps the value found least deep; at equal depth, the last one."""
        known = state.depths.get(key)
        if known is None or depth <= known:
            state.depths[key] = depth
            state.fields[key] = value

    def title(self, name: str, element: Any, state: _EntryState, depth: int) -> None:
        kind = _content_type(element, "text/plain")
        value = self.finish(_text(element, markup=True, kind=kind))
        if not -1 < state.title_depth <= depth:
            self.store(state, "title", value, depth)
        if value and name != "media:title":  # feedparser restores the depth after media:title
            state.title_depth = depth

    def link(self, element: Any, state: _EntryState) -> None:
        attributes = _attributes(element)
        href = attributes.get("url", attributes.get("uri", attributes.get("href")))
        if href is None:
            value = self.finish(_text(element, markup=False), resolve=True)
            # feedparser undoes what it takes for entity references in a link's query
            value = LINK_ENTITY.sub(r"&\g<1>", value.replace("&amp;", "&"))
            state.fields["link"] = value
            return
        rel = attributes.get("rel", "alternate")
        kind = attributes.get("type", "application/atom+xml" if rel == "self" else "text/html")
        if rel == "alternate" and _map_type(kind) in HTML_TYPES:
            state.fields["link"] = self.resolve(href)

    def guid(self, element: Any, state: _EntryState, depth: int) -> None:
        is_link = _attributes(element).get("ispermalink", "true") == "true"
        value = self.finish(_text(element, markup=False), resolve=is_link)
        self.store(state, "id", value, depth)
        if is_link:
            state.fields.setdefault("link", value)

    def summary(self, element: Any, state: _EntryState, depth: int, *, rss: bool) -> None:
        if "summary" in state.fields and not state.has_content:
            self.content(element, state, "text/plain")  # a second summary is read as content
            return
        kind = _content_type(element, "text/html" if rss else "text/plain")
        self.store(state, "summary", self.finish(_text(element, markup=True, kind=kind)), depth)

    def content(self, element: Any, state: _EntryState, default_type: str) -> None:
        state.has_content = True
        kind = _content_type(element, default_type)
        value = self.finish(_text(element, markup=True, kind=kind))
        state.fields.setdefault("content", []).append({"type": kind, "value": value})
        if kind in TEXT_TYPES:
            state.fields.setdefault("summary", value)


def _map_type(kind: str) -> str:
    kind = kind.lower()
    return {"text": "text/plain", "plain": "text/plain", "html": "text/html"}.get(
        kind, "application/xhtml+xml" if kind == "xhtml" else kind
    )


def _content_type(element: Any, default: str) -> str:
    """The declared type of a text construct; feedparser decodes other types as base64 (and
    Atom 0.3 modes), which is left to feedparser."""
    attributes = _attributes(element)
    if "mode" in attributes or "src" in attributes:
        raise FastPathDeclinedError("an Atom 0.3 mode or out-of-line content")
    kind = _map_type(attributes.get("type", default))
    if kind not in TEXT_TYPES:
        raise FastPathDeclinedError(f"content of type {kind}")
    return kind
