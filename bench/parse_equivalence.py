"""The fast feed reader against feedparser, on every file of the feed corpora.

Each document goes through the entity guard, then through both readers: the fast lxml reader
(``read_fast``, None where it declines) and feedparser (``read_with_feedparser``). Where the fast
reader accepts a document, every kept field of every entry (GUID, link, title, summary, content,
date, after the same HTML-to-text) and the feed's title and ttl must be equal; each difference is
printed. Where it declines, feedparser reads the document in production, so the reasons are
counted. Files may carry a feedparser-corpus header comment (``Header: Content-type: …``).

Usage: python bench/parse_equivalence.py [FOLDER ...] [--show 40]
       (FOLDERS default to ../shared/data/feeds, tests/fixtures/feeds and the hostile feeds of
       tests/test_hostile_feeds.py)
"""

from __future__ import annotations

import argparse
import re
import sys
from collections import Counter
from dataclasses import dataclass, fields
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from monitor.parse.encoding import FastPathDeclinedError  # noqa: E402
from monitor.parse.fast_feed import read_xml_feed  # noqa: E402
from monitor.parse.feed import (  # noqa: E402
    FeedParseError,
    guard_feed,
    read_fast,
    read_with_feedparser,
)
from monitor.parse.json_feed import read_json_feed  # noqa: E402
from monitor.records import ParsedFeed  # noqa: E402

DEFAULT_FOLDERS = [ROOT.parent / "shared" / "data" / "feeds", ROOT / "tests" / "fixtures" / "feeds"]
HEADER = re.compile(rb"^Header:\s*([A-Za-z-]+):\s*(.*?)\s*$", re.MULTILINE)
SUFFIXES = {".xml", ".rss", ".atom", ".rdf", ".json"}
BASE = "http://127.0.0.1:8080/"


@dataclass(frozen=True)
class Document:
    name: str
    body: bytes
    content_type: str | None


def corpus(folders: list[Path]) -> list[Document]:
    documents = []
    for folder in folders:
        for path in sorted(folder.rglob("*")):
            if path.is_file() and path.suffix in SUFFIXES:
                body = path.read_bytes()
                found = HEADER.findall(body[:2000])
                headers = {k.decode().lower(): v.decode("latin-1") for k, v in found}
                name = f"{folder.name}/{path.relative_to(folder).as_posix()}"
                documents.append(Document(name, body, headers.get("content-type")))
    return documents


def hostile() -> list[Document]:
    """The robustness corpus of the test suite: encoding trouble and entity bombs."""
    from tests.test_hostile_feeds import READABLE
    from tests.test_xml_guard import billion_laughs, quadratic_blowup

    documents = [Document(f"hostile/{case}", body, ct) for case, (body, ct) in READABLE.items()]
    for attack in (quadratic_blowup, billion_laughs):
        for encoding in ("utf-8", "utf-16"):
            body = attack().replace("{encoding}", encoding).encode(encoding)
            name = f"hostile/{attack.__name__} in {encoding}"
            documents.append(Document(name, body, "application/rss+xml"))
    return documents


def decline_reason(body: bytes, content_type: str | None) -> str:
    try:
        if body.lstrip(b" \t\r\n\xef\xbb\xbf")[:1] == b"{":
            read_json_feed(body, BASE)
        else:
            read_xml_feed(body, BASE, content_type)
    except FastPathDeclinedError as declined:
        return re.sub(r"(line|column) \d+", r"\1 N", str(declined)).split(" (")[0][:70]
    return "?"


def differences(fast: ParsedFeed, slow: ParsedFeed) -> list[str]:
    found = []
    if fast.title != slow.title:
        found.append(f"feed title: {fast.title!r} != {slow.title!r}")
    if fast.ttl_seconds != slow.ttl_seconds:
        found.append(f"ttl: {fast.ttl_seconds} != {slow.ttl_seconds}")
    if len(fast.entries) != len(slow.entries):
        found.append(f"entries: {len(fast.entries)} != {len(slow.entries)}")
    for number, (mine, theirs) in enumerate(zip(fast.entries, slow.entries, strict=False)):
        for field in fields(mine):
            ours, their = getattr(mine, field.name), getattr(theirs, field.name)
            if ours != their:
                found.append(f"entry {number} {field.name}: {ours!r:.80} != {their!r:.80}")
    return found


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("folders", nargs="*", type=Path, default=DEFAULT_FOLDERS)
    parser.add_argument("--show", type=int, default=40, help="differences to print")
    args = parser.parse_args()
    documents = corpus(args.folders) + hostile()
    outcome: Counter[str] = Counter()
    declined: Counter[str] = Counter()
    entries = Counter[str]()
    listed: list[tuple[str, list[str]]] = []
    for document in documents:
        try:
            guarded = guard_feed(document.body, document.content_type)
        except FeedParseError:
            outcome["refused by the guard or empty (both paths)"] += 1
            continue
        url = BASE + document.name
        fast = read_fast(guarded.body, url, document.content_type, guarded.removed)
        try:
            slow = read_with_feedparser(guarded.body, url, document.content_type, guarded.removed)
        except FeedParseError:
            slow = None
        if fast is None:
            outcome["declined: read by feedparser"] += 1
            declined[decline_reason(guarded.body, document.content_type)] += 1
            continue
        if slow is None:
            outcome["fast reads it, feedparser: not a feed"] += 1
            listed.append((document.name, [f"{len(fast.entries)} entries; feedparser: none"]))
            continue
        entries["fast"] += len(fast.entries)
        found = differences(fast, slow)
        outcome["fast, differs from feedparser" if found else "fast, identical to feedparser"] += 1
        if found:
            listed.append((document.name, found))

    print(f"{len(documents)} documents")
    for kind, count in outcome.most_common():
        print(f"  {kind:45}: {count}")
    print(f"entries read by the fast path and compared field by field: {entries['fast']}")
    print("why the fast path declined (feedparser read these):")
    for reason, count in declined.most_common(25):
        print(f"  {count:5}  {reason}")
    print(f"documents with a difference: {len(listed)}")
    for name, found in listed[: args.show]:
        print(f"  {name}")
        for line in found[:6]:
            print(f"      {line}")


if __name__ == "__main__":
    main()
