"""Every feed file of a corpus, served by a local server and run through fetch + parse.

Checks that nothing crashes or hangs, and that every feed plain feedparser reads still yields
its entries once fetched through the gate and parsed behind the entity guard. Files may carry
a feedparser-corpus header comment (``Header: Content-type: …``), sent as HTTP headers.

Usage: python bench/feeds_robustness.py [FOLDER] [--timeout 10] [--show 20]
       (FOLDER defaults to ../shared/data/feeds beside the repository)
"""

from __future__ import annotations

import argparse
import asyncio
import re
import sys
import time
from collections import Counter
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

import aiohttp  # noqa: E402
import feedparser  # noqa: E402
from aiohttp import web  # noqa: E402

from monitor.fetch.http import FetchError, FetchRefusedError, fetch, open_http_session  # noqa: E402
from monitor.fetch.settings import FetchSettings  # noqa: E402
from monitor.parse.feed import FeedParseError, parse_feed  # noqa: E402

DEFAULT_FOLDER = ROOT.parent / "shared" / "data" / "feeds"
HEADER = re.compile(rb"^Header:\s*([A-Za-z-]+):\s*(.*?)\s*$", re.MULTILINE)
SERVED_HEADERS = {"content-type", "content-language", "content-location", "etag"}
FEED_SUFFIXES = {".xml", ".rss", ".atom", ".rdf"}


@dataclass(frozen=True)
class Outcome:
    name: str  # the file, relative to the corpus folder
    kind: str  # ok, not a feed, refused, fetch error, timeout, crash
    entries: int
    expected: int
    seconds: float
    detail: str = ""


def corpus_headers(body: bytes) -> dict[str, str]:
    headers = {"Content-Type": "application/xml"}
    for name, value in HEADER.findall(body[:2000]):
        if name.decode().lower() in SERVED_HEADERS:
            headers[name.decode()] = value.decode("latin-1")
    return headers


def expected_entries(body: bytes, url: str) -> int:
    """What plain feedparser finds: entries with an http(s) link (the ones monitor keeps)."""
    lowered = {key.lower(): value for key, value in corpus_headers(body).items()}
    parsed = feedparser.parse(body, response_headers={"content-location": url, **lowered})
    return sum(
        1
        for entry in parsed.entries
        if str(entry.get("link", "")).strip().lower().startswith(("http://", "https://"))
    )


def load(folder: Path) -> dict[str, bytes]:
    return {
        path.relative_to(folder).as_posix(): path.read_bytes()
        for path in sorted(folder.rglob("*"))
        if path.is_file() and path.suffix in FEED_SUFFIXES
    }


async def check(
    http: aiohttp.ClientSession, settings: FetchSettings, base: str, name: str, body: bytes,
    limit: float,
) -> Outcome:  # fmt: skip
    url = f"{base}/{name}"
    expected = expected_entries(body, url)
    started = time.perf_counter()
    try:
        async with asyncio.timeout(limit):
            fetched = await fetch(http, url, settings)
            parsed = parse_feed(fetched.body, fetched.url, fetched.content_type)
        kind, entries, detail = "ok", len(parsed.entries), parsed.warning or ""
    except FeedParseError as error:
        refused = str(error).startswith("refused")
        kind, entries, detail = ("refused" if refused else "not a feed"), 0, str(error)
    except FetchRefusedError as error:
        kind, entries, detail = "refused", 0, str(error)
    except FetchError as error:
        kind, entries, detail = "fetch error", 0, str(error)
    except TimeoutError:
        kind, entries, detail = "timeout", 0, f"no result in {limit:g} s"
    except Exception as error:  # noqa: BLE001  (the point is to see any crash, and go on)
        kind, entries, detail = "crash", 0, f"{type(error).__name__}: {error}"
    return Outcome(name, kind, entries, expected, time.perf_counter() - started, detail)


async def run(corpus: dict[str, bytes], limit: float) -> list[Outcome]:
    async def serve_file(request: web.Request) -> web.Response:
        body = corpus.get(request.match_info["path"])
        if body is None:
            raise web.HTTPNotFound()
        return web.Response(body=body, headers=corpus_headers(body))

    app = web.Application()
    app.router.add_get("/{path:.*}", serve_file)
    runner = web.AppRunner(app, access_log=None)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    port = site._server.sockets[0].getsockname()[1]  # type: ignore[union-attr]
    settings = FetchSettings(allow_networks=("127.0.0.1/32",), concurrency=16)
    slots = asyncio.Semaphore(16)
    try:
        async with open_http_session(settings) as http:

            async def bounded(name: str, body: bytes) -> Outcome:
                async with slots:
                    base = f"http://127.0.0.1:{port}"
                    return await check(http, settings, base, name, body, limit)

            return list(await asyncio.gather(*(bounded(n, b) for n, b in corpus.items())))
    finally:
        await runner.cleanup()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("folder", nargs="?", type=Path, default=DEFAULT_FOLDER)
    parser.add_argument("--timeout", type=float, default=10, help="seconds per file")
    parser.add_argument("--show", type=int, default=20, help="lost-entry cases to list")
    args = parser.parse_args()
    started = time.perf_counter()
    outcomes = asyncio.run(run(load(args.folder), args.timeout))
    elapsed = time.perf_counter() - started

    kinds = Counter(outcome.kind for outcome in outcomes)
    readable = [o for o in outcomes if o.expected > 0]
    lost = [o for o in readable if o.entries < o.expected]
    print(f"{len(outcomes)} files from {args.folder} in {elapsed:.1f} s")
    for kind in ("ok", "not a feed", "refused", "fetch error", "timeout", "crash"):
        print(f"  {kind:12}: {kinds.get(kind, 0)}")
    print(f"entries: {sum(o.entries for o in outcomes)} (plain feedparser: "
          f"{sum(o.expected for o in outcomes)})")  # fmt: skip
    print(
        f"feeds where plain feedparser finds linked entries: {len(readable)}; "
        f"all of them kept: {len(readable) - len(lost)}; fewer: {len(lost)}"
    )
    defused = sum(1 for o in outcomes if "entity declarations removed" in o.detail)
    print(f"feeds whose entity declarations were removed before parsing: {defused}")
    print("not a feed: " + ", ".join(o.name for o in outcomes if o.kind == "not a feed"))
    slowest = max(outcomes, key=lambda o: o.seconds)
    print(f"slowest file: {slowest.seconds:.2f} s ({slowest.name})")
    for outcome in lost[: args.show]:
        print(
            f"  fewer entries: {outcome.name}: {outcome.entries} of "
            f"{outcome.expected} ({outcome.kind}: {outcome.detail[:100]})"
        )
    for outcome in outcomes:
        if outcome.kind in ("refused", "timeout", "crash", "fetch error"):
            print(f"  {outcome.kind}: {outcome.name}: {outcome.detail}")
    if kinds.get("crash") or kinds.get("timeout"):
        sys.exit(1)


if __name__ == "__main__":
    main()
