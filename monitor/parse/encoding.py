"""Decide whether a feed's encoding is beyond doubt, before the fast reader may read it.

feedparser weighs the HTTP charset, RFC 3023's defaults for text/* types, the XML declaration and
a byte-order mark, and falls back on other encodings when they disagree. The fast reader takes a
document only where all of them agree and the bytes decode cleanly; any doubt goes to feedparser.
"""

from __future__ import annotations

import codecs
import re

CHARSET = re.compile(r"charset\s*=\s*[\"']?([^\s;\"']+)", re.IGNORECASE)
XML_DECLARATION = re.compile(rb"^<\?xml[^>]*?encoding\s*=\s*[\"']([A-Za-z0-9._:-]+)[\"']")
# Labels read the same way by Python, libxml2 and feedparser (which keeps the label it was
# given, and repairs doubly encoded UTF-8 only when that label is "utf-8").
CLEAR_LABELS = {"utf-8", "us-ascii", "ascii", "iso-8859-1", "windows-1252", "iso-8859-15"}
CLEAR_LABELS |= {"windows-1251", "windows-1250", "koi8-r", "iso-8859-2"}
XML_MEDIA_TYPES = ("application/xml", "text/xml")


class FastPathDeclinedError(Exception):
    """The fast reader declines this document; feedparser reads it instead."""


def declared_charset(content_type: str | None) -> str | None:
    """The ``charset`` parameter of a Content-Type header, if any."""
    found = CHARSET.search(content_type or "")
    return found.group(1) if found else None


def xml_codec(body: bytes, content_type: str | None) -> str:
    """The one label every reader would agree the document is in (lower case); else raises
    FastPathDeclinedError."""
    if body.startswith(codecs.BOM_UTF8):
        body = body[len(codecs.BOM_UTF8) :]
        bom: str | None = "utf-8"
    elif b"\0" in body[:4] or body.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
        raise FastPathDeclinedError("UTF-16 or UTF-32")
    else:
        bom = None
    declared = XML_DECLARATION.match(body[:512])
    label = declared.group(1).decode("ascii").lower() if declared else "utf-8"
    media_type = (content_type or "").split(";", 1)[0].strip().lower()
    charset = (declared_charset(content_type) or "").lower()
    if media_type and not (media_type in XML_MEDIA_TYPES or media_type.endswith("+xml")):
        raise FastPathDeclinedError(f"a {media_type} document")  # feedparser flags these as non-XML
    if media_type.startswith("text/") and not charset and not body.isascii():
        raise FastPathDeclinedError("text/xml without a charset (RFC 3023 says US-ASCII)")
    if label not in CLEAR_LABELS or (charset and charset != label) or (bom and bom != label):
        raise FastPathDeclinedError(
            f"encoding in doubt: declared {label}, charset {charset or 'none'}"
        )
    try:
        body.decode(label)
    except UnicodeDecodeError:
        raise FastPathDeclinedError(f"not valid {label}") from None
    return label
