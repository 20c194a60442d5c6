"""Remove entity declarations from a feed before any XML parser sees it.

feedparser (6.0.x) stops billion laughs and never loads external entities, but it keeps the
"safe-looking" internal entities of a DOCTYPE and expands them: one 50 KB entity referenced
20,000 times (110 KB on the wire) becomes a 10⁹-character title — the quadratic blowup. Feeds
have no use for a DOCTYPE's internal subset, so it is removed, with any stray ENTITY declaration
before the root element. References to the removed entities then stay as literal text.

The declarations are found in whatever encoding the document is in: the byte-order mark, the
UTF-16/32 byte patterns of "<?" (XML 1.0 appendix F), the encoding named in the XML declaration,
and the charset the server declared are each tried, since a parser may believe any of them.
"""

from __future__ import annotations

import codecs
import re
from dataclasses import dataclass

BOMS = (
    (codecs.BOM_UTF32_LE, "utf-32-le"),
    (codecs.BOM_UTF32_BE, "utf-32-be"),
    (codecs.BOM_UTF8, "utf-8"),
    (codecs.BOM_UTF16_LE, "utf-16-le"),
    (codecs.BOM_UTF16_BE, "utf-16-be"),
)
# XML 1.0 appendix F: how "<" or "<?xm" looks in each encoding without a byte-order mark.
SIGNATURES = (
    (b"<\0\0\0", "utf-32-le"),
    (b"\0\0\0<", "utf-32-be"),
    (b"<\0?\0", "utf-16-le"),
    (b"\0<\0?", "utf-16-be"),
    (b"\x4c\x6f\xa7\x94", "cp037"),  # EBCDIC, which feedparser reads too
)
XML_DECLARATION = re.compile(rb"^\s*<\?xml[^>]*?encoding\s*=\s*[\"']([A-Za-z0-9._:-]+)[\"']")
DECLARATION = re.compile(r"<!(?:DOCTYPE|ENTITY)\b", re.IGNORECASE)
DECLARATION_BYTES = re.compile(rb"<!(?:DOCTYPE|ENTITY)", re.IGNORECASE)
MARKUP_TOKEN = re.compile(r"[\"'\[\]>]|<!--")
SUBSET_TOKEN = re.compile(r"[\"'\[]")
ASCII_PROBE = b"<!DOCTYPE a [<!ENTITY b 'c'>]> +ADw- <?xml?>"
HEAD_BYTES = 1024


class UnsafeXMLError(ValueError):
    """The document declares entities in a way that cannot be safely removed."""


@dataclass(frozen=True, slots=True)
class GuardedXML:
    """The document without entity declarations; ``removed`` says whether any were there."""

    body: bytes
    removed: bool


def remove_entity_declarations(body: bytes, declared_charset: str | None = None) -> GuardedXML:
    """Return ``body`` with every DOCTYPE internal subset and ENTITY declaration removed from
    its prolog, in each encoding a parser might read it in.

    Raises UnsafeXMLError for a declaration that never ends."""
    removed = False
    for encoding in _candidate_encodings(body, declared_charset):
        if encoding is None:  # any ASCII-compatible encoding: markup bytes are ASCII
            body, changed = _strip(body, "latin-1", bom=b"")
        else:
            bom = next((mark for mark, name in BOMS if name == encoding), b"")
            body, changed = _strip(body, encoding, bom=bom if body.startswith(bom) else b"")
        removed = removed or changed
    return GuardedXML(body=body, removed=removed)


def _candidate_encodings(body: bytes, declared_charset: str | None) -> list[str | None]:
    """The encodings that do not spell "<!DOCTYPE" in ASCII (tried one by one), then None."""
    found: list[str | None] = []
    head = body[:HEAD_BYTES]
    for mark, name in BOMS:
        if head.startswith(mark):
            found.append(name)
            break
    else:
        found += [name for pattern, name in SIGNATURES if head.startswith(pattern)][:1]
        found.append(_interleaved_nuls(head))
    declared = XML_DECLARATION.match(head)
    found += [declared.group(1).decode("ascii") if declared else None, declared_charset]
    unique: list[str | None] = []
    for label in found:
        codec = _codec(label) if label else None
        if codec and not _ascii_compatible(codec) and codec not in unique:
            unique.append(codec)
    return [*unique, None]


def _interleaved_nuls(head: bytes) -> str | None:
    """UTF-16 without a byte-order mark, told by its NUL bytes (ASCII text has none)."""
    sample = head[:64]
    if len(sample) < 8:
        return None
    even, odd = sample[0::2], sample[1::2]
    if odd.count(0) >= len(odd) * 3 // 4 and not even.count(0):
        return "utf-16-le"
    if even.count(0) >= len(even) * 3 // 4 and not odd.count(0):
        return "utf-16-be"
    return None


def _codec(name: str) -> str | None:
    try:
        return codecs.lookup(name).name
    except LookupError:
        return None


def _ascii_compatible(codec: str) -> bool:
    """Whether markup bytes mean in ``codec`` what they mean in ASCII (UTF-16/32, UTF-7 and
    EBCDIC do not)."""
    try:
        return ASCII_PROBE.decode(codec) == ASCII_PROBE.decode("ascii")
    except (UnicodeDecodeError, LookupError):
        return False


def _strip(body: bytes, encoding: str, *, bom: bytes) -> tuple[bytes, bool]:
    """Decode with ``encoding``, cut the declarations out of the prolog, encode back."""
    raw = body[len(bom) :]
    if encoding == "latin-1" and not DECLARATION_BYTES.search(raw):
        return body, False  # the common case, decided at C speed
    try:
        text = raw.decode(encoding, errors="surrogatepass")
    except UnicodeDecodeError:
        # Not in this encoding after all, so no parser can read it that way either.
        return body, False
    cleaned = _strip_prolog(text)
    if cleaned is None:
        return body, False
    return bom + cleaned.encode(encoding, errors="surrogatepass"), True


def _strip_prolog(text: str) -> str | None:
    """``text`` without DOCTYPE internal subsets and ENTITY declarations before its root
    element (None if there were none); comments and processing instructions stay."""
    parts: list[str] = []
    position = kept = 0
    changed = False
    while (start := text.find("<", position)) >= 0 and start + 1 < len(text):
        following = text[start + 1]
        if following.isalnum() or following in "_:":
            break  # the root element: the prolog is over
        if following == "?":
            end = text.find("?>", start + 2)
            position = len(text) if end < 0 else end + 2
            continue
        if following != "!":
            position = start + 1
            continue
        end = _declaration_end(text, start)
        keyword = DECLARATION.match(text, start)
        if keyword is not None:
            if end > len(text):
                raise UnsafeXMLError("an entity or DOCTYPE declaration that never ends")
            parts.append(text[kept:start])
            if keyword.group().upper() == "<!DOCTYPE":
                parts.append(_doctype_without_subset(text[start:end]))
            kept = end
            changed = True
        position = end
    if not changed:
        return None
    parts.append(text[kept:])
    return "".join(parts)


def _declaration_end(text: str, start: int) -> int:
    """The index just past the ``<!…>`` markup at ``start``: comments, quoted literals and a
    DOCTYPE's bracketed internal subset may all contain ``>``. Past the end if unterminated."""
    if text.startswith("<!--", start):
        end = text.find("-->", start + 4)
        return len(text) + 1 if end < 0 else end + 3
    depth = 0
    position = start + 2
    while (token := MARKUP_TOKEN.search(text, position)) is not None:
        found = token.group()
        if found in "\"'":
            close = text.find(found, token.end())
            if close < 0:
                break
            position = close + 1
            continue
        if found == "<!--":
            close = text.find("-->", token.end())
            if close < 0:
                break
            position = close + 3
            continue
        if found == "[":
            depth += 1
        elif found == "]":
            depth = max(depth - 1, 0)
        elif depth == 0:  # ">"
            return token.end()
        position = token.end()
    return len(text) + 1


def _doctype_without_subset(declaration: str) -> str:
    """``<!DOCTYPE rss PUBLIC "…" "…" [ … ]>`` becomes ``<!DOCTYPE rss PUBLIC "…" "…">``: the
    public identifier stays (feedparser reads the RSS 0.91 version from it)."""
    position = 0
    while (token := SUBSET_TOKEN.search(declaration, position)) is not None:
        if token.group() == "[":
            return declaration[: token.start()].rstrip() + ">"
        close = declaration.find(token.group(), token.end())
        if close < 0:
            break
        position = close + 1
    return declaration
