"""How many times an OPML subscription list names each feed URL.

``listparser`` (which reads the rest of the file) keeps one entry per URL and silently drops the
repeats, even two in one folder; an import reports them, so they are counted here. The document
must have been through the entity guard (``xml_guard``); entities are not expanded here anyway.
"""

from __future__ import annotations

from collections import Counter

import lxml.etree

# Recovering, like listparser: a file it reads is counted, even with a stray error in it.
_PARSER = lxml.etree.XMLParser(
    recover=True, resolve_entities=False, no_network=True, load_dtd=False
)


def listed_feed_urls(document: bytes) -> Counter[str]:
    """Each ``xmlUrl`` of the document's outlines (stripped, as listparser strips it), with how
    many outlines name it; empty when the document cannot be read at all."""
    try:
        root = lxml.etree.fromstring(document, _PARSER)
    except lxml.etree.XMLSyntaxError:
        return Counter()
    if root is None:
        return Counter()
    listed: Counter[str] = Counter()
    for element in root.iter():
        if not isinstance(element.tag, str) or _local_name(element.tag) != "outline":
            continue  # a comment or a processing instruction, or not an outline
        for name, value in element.attrib.items():
            if _local_name(name) == "xmlurl" and value.strip():
                listed[value.strip()] += 1
                break
    return listed


def _local_name(name: str) -> str:
    """An element's or attribute's name without its namespace, in lower case: listparser reads
    ``xmlURL`` and ``opml:outline`` too."""
    return name.rpartition("}")[2].lower()
