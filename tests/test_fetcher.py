"""Fetching through the address gate and within bounds, against real local servers."""

from __future__ import annotations

import asyncio
import time
import tracemalloc
import zlib
from collections.abc import AsyncIterator
from contextlib import suppress

import aiohttp
import pytest
from aiohttp import web

from monitor.fetch.http import (
    FetchError,
    FetchRefusedError,
    HTTPStatusError,
    fetch,
    open_http_session,
)
from monitor.fetch.settings import FetchSettings
from tests.web import ScriptedResolver, Site

LIMITS = FetchSettings(
    max_bytes=64 * 1024,
    total_timeout_seconds=3,
    read_timeout_seconds=1,
    connect_timeout_seconds=1,
    max_redirects=3,
    allow_networks=("127.0.0.1/32",),  # the test servers; 127.0.0.2 stays forbidden
)
NO_EXCEPTIONS = LIMITS.model_copy(update={"allow_networks": ()})


@pytest.fixture
async def http() -> AsyncIterator[aiohttp.ClientSession]:
    async with open_http_session(LIMITS) as session:
        yield session


@pytest.fixture
async def secret() -> AsyncIterator[Site]:
    """An internal service on another loopback address, which no fetch may ever reach."""
    server = await Site(host="127.0.0.2").start()
    server.serve("/secret", "internal data", content_type="text/plain")
    yield server
    await server.close()


def gzip_bomb(inflated: int) -> bytes:
    """``inflated`` zero bytes, gzip-compressed (about a thousandth of the size)."""
    packer = zlib.compressobj(9, zlib.DEFLATED, 31)
    block = bytes(1024 * 1024)
    parts = [packer.compress(block) for _ in range(inflated // len(block))]
    return b"".join([*parts, packer.flush()])


async def test_a_body_and_its_validators(site: Site, http: aiohttp.ClientSession) -> None:
    url = site.serve(
        "/feed.xml",
        "<rss/>",
        headers={"ETag": '"abc"', "Last-Modified": "Fri, 26 Jan 2024 09:00:00 GMT"},
    )
    fetched = await fetch(http, url, LIMITS)
    assert (fetched.status, fetched.body) == (200, b"<rss/>")
    assert (fetched.etag, fetched.last_modified) == ('"abc"', "Fri, 26 Jan 2024 09:00:00 GMT")
    assert site.requests[0].headers["User-Agent"] == LIMITS.user_agent


async def test_not_modified_keeps_the_validators(site: Site, http: aiohttp.ClientSession) -> None:
    url = site.serve("/feed.xml", "", status=304)
    fetched = await fetch(http, url, LIMITS, etag='"abc"', last_modified="yesterday")
    assert fetched.not_modified
    assert (fetched.etag, fetched.last_modified) == ('"abc"', "yesterday")
    assert site.requests[0].headers["If-None-Match"] == '"abc"'


async def test_validators_are_updated_one_by_one(site: Site, http: aiohttp.ClientSession) -> None:
    # RFC 9111 §4.3.4: a 304 that carries only a new Last-Modified updates only that one.
    url = site.serve("/a.xml", "", status=304, headers={"Last-Modified": "today"})
    fetched = await fetch(http, url, LIMITS, etag='"abc"', last_modified="yesterday")
    assert (fetched.etag, fetched.last_modified) == ('"abc"', "today")
    # A new representation without an ETag: the old ETag described the old one; drop it.
    url = site.serve("/b.xml", "<rss/>", headers={"Last-Modified": "today"})
    fetched = await fetch(http, url, LIMITS, etag='"abc"', last_modified="yesterday")
    assert (fetched.etag, fetched.last_modified) == (None, "today")


async def test_a_body_over_the_limit_is_refused(site: Site, http: aiohttp.ClientSession) -> None:
    url = site.serve("/big.xml", b"x" * (LIMITS.max_bytes + 1))
    with pytest.raises(FetchError, match="over the 65536-byte limit"):
        await fetch(http, url, LIMITS)


async def test_a_100_mb_stream_stops_at_the_limit(site: Site, http: aiohttp.ClientSession) -> None:
    sent = 0

    async def endless(request: web.Request) -> web.StreamResponse:
        nonlocal sent
        response = web.StreamResponse(headers={"Content-Type": "application/rss+xml"})
        await response.prepare(request)  # chunked: no Content-Length to refuse up front
        block = b"<item>" * 170_000  # 1 MB
        with suppress(ConnectionError):
            for _ in range(100):
                await response.write(block)
                sent += len(block)
        return response

    tracemalloc.start()
    try:
        with pytest.raises(FetchError, match="over the 65536-byte limit"):
            await fetch(http, site.handle("/huge.xml", endless), LIMITS)
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert peak < 8 * 1024 * 1024
    assert sent < 100 * 1_020_000  # the server was cut off before it sent everything


async def test_a_gzip_bomb_stops_at_the_limit_with_bounded_memory(
    site: Site, http: aiohttp.ClientSession
) -> None:
    bomb = gzip_bomb(256 * 1024 * 1024)  # 256 KB on the wire, 256 MB inflated

    async def handler(_request: web.Request) -> web.Response:
        return web.Response(
            body=bomb, headers={"Content-Encoding": "gzip", "Content-Type": "application/rss+xml"}
        )

    tracemalloc.start()
    try:
        started = time.perf_counter()
        with pytest.raises(FetchError, match="over the 65536-byte limit"):
            await fetch(http, site.handle("/bomb.xml", handler), LIMITS)
        elapsed = time.perf_counter() - started
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert peak < 8 * 1024 * 1024
    assert elapsed < 2


async def test_a_server_that_stalls_is_cut_off(site: Site, http: aiohttp.ClientSession) -> None:
    async def stall(request: web.Request) -> web.StreamResponse:
        response = web.StreamResponse()
        await response.prepare(request)
        for _ in range(30):
            await response.write(b"<")
            await asyncio.sleep(2)
        return response

    with pytest.raises(FetchError, match=r"timed out waiting for data \(limit 1 s\)"):
        await fetch(http, site.handle("/slow.xml", stall), LIMITS)


async def test_a_slowloris_trickle_is_cut_off_by_the_total_timeout(
    site: Site, http: aiohttp.ClientSession
) -> None:
    async def trickle(request: web.Request) -> web.StreamResponse:
        response = web.StreamResponse()
        await response.prepare(request)
        with suppress(ConnectionError):
            for _ in range(100):
                await response.write(b"<")  # fast enough for the read timeout, never done
                await asyncio.sleep(0.5)
        return response

    started = time.perf_counter()
    with pytest.raises(FetchError, match=r"timed out \(limit 3 s for the whole fetch\)"):
        await fetch(http, site.handle("/trickle.xml", trickle), LIMITS)
    assert time.perf_counter() - started < 4


async def test_errors_and_redirect_loops_are_reported(
    site: Site, http: aiohttp.ClientSession
) -> None:
    with pytest.raises(FetchError, match="HTTP 410 Gone"):
        await fetch(http, site.serve("/gone.xml", "", status=410), LIMITS)

    async def loop(_request: web.Request) -> web.Response:
        raise web.HTTPFound("/loop.xml")

    with pytest.raises(FetchError, match="more than 3 redirects"):
        await fetch(http, site.handle("/loop.xml", loop), LIMITS)


async def test_at_most_ten_redirects_by_default(site: Site) -> None:
    settings = LIMITS.model_copy(update={"max_redirects": 10})
    for hop in range(11):
        site.serve(f"/r{hop}", "", status=302, headers={"Location": f"/r{hop + 1}"})
    site.serve("/r11", "<rss/>")
    async with open_http_session(settings) as http:
        assert (await fetch(http, site.url("/r1"), settings)).body == b"<rss/>"
        with pytest.raises(FetchError, match="more than 10 redirects"):
            await fetch(http, site.url("/r0"), settings)


async def test_429_and_503_carry_retry_after(site: Site, http: aiohttp.ClientSession) -> None:
    url = site.serve("/busy.xml", "", status=429, headers={"Retry-After": "120"})
    with pytest.raises(HTTPStatusError) as caught:
        await fetch(http, url, LIMITS)
    assert (caught.value.status, caught.value.retry_after) == (429, "120")
    url = site.serve(
        "/down.xml", "", status=503, headers={"Retry-After": "Fri, 26 Jan 2024 09:00:00 GMT"}
    )
    with pytest.raises(HTTPStatusError) as caught:
        await fetch(http, url, LIMITS)
    assert (caught.value.status, caught.value.retry_after) == (
        503,
        "Fri, 26 Jan 2024 09:00:00 GMT",
    )


@pytest.mark.parametrize(
    ("statuses", "moved"),
    [((301,), True), ((308,), True), ((301, 308), True), ((302,), False), ((307,), False),
     ((301, 302), False), ((302, 301), False)],
)  # fmt: skip
async def test_only_permanent_redirects_move_a_feed(
    site: Site, http: aiohttp.ClientSession, statuses: tuple[int, ...], moved: bool
) -> None:
    for hop, status in enumerate(statuses):
        site.serve(f"/hop{hop}", "", status=status, headers={"Location": f"/hop{hop + 1}"})
    final = site.serve(f"/hop{len(statuses)}", "<rss/>")
    fetched = await fetch(http, site.url("/hop0"), LIMITS)
    assert fetched.body == b"<rss/>"
    assert fetched.moved_to == (final if moved else None)


@pytest.mark.parametrize("url", ["file:///etc/passwd", "ftp://example.com/feed", "gopher://x"])
async def test_only_http_is_fetched(url: str, http: aiohttp.ClientSession) -> None:
    with pytest.raises(FetchRefusedError, match="refused: only http and https"):
        await fetch(http, url, LIMITS)


async def test_a_closed_port_is_an_ordinary_error(http: aiohttp.ClientSession) -> None:
    with pytest.raises(FetchError, match="ClientConnectorError"):
        await fetch(http, "http://127.0.0.1:9/feed.xml", LIMITS)


# The address gate, on live servers. With no allowed networks the test servers themselves are
# forbidden, so each refusal below is one that would otherwise have reached a real server.

SSRF_SPELLINGS = {
    "http://127.0.0.1:{port}/feed.xml": "127.0.0.1 is a loopback address",
    "http://localhost:{port}/feed.xml": "localhost resolves to 127.0.0.1, a loopback address",
    "http://[::1]:{port}/feed.xml": "::1 is a loopback address",
    "http://[::ffff:127.0.0.1]:{port}/feed.xml": "embeds 127.0.0.1, a loopback address",
    "http://[::ffff:7f00:1]:{port}/feed.xml": "embeds 127.0.0.1, a loopback address",
    "http://[2002:7f00:1::]:{port}/feed.xml": "embeds 127.0.0.1, a loopback address",
    "http://[64:ff9b::7f00:1]:{port}/feed.xml": "embeds 127.0.0.1, a loopback address",
    "http://2130706433:{port}/feed.xml": "2130706433 is an unusual spelling of 127.0.0.1",
    "http://0x7f.1:{port}/feed.xml": "0x7f.1 is an unusual spelling of 127.0.0.1",
    "http://0x7f000001:{port}/feed.xml": "unusual spelling of 127.0.0.1",
    "http://0177.0.0.1:{port}/feed.xml": "0177.0.0.1 is an unusual spelling of 127.0.0.1",
    "http://127.1:{port}/feed.xml": "127.1 is an unusual spelling of 127.0.0.1",
    "http://a.com\\@127.0.0.1:{port}/feed.xml": "a backslash in the host part",
    "http://user@127.0.0.1:{port}/feed.xml": "127.0.0.1 is a loopback address",
    "http://10.0.0.5/": "10.0.0.5 is a private address",
    "http://169.254.169.254/latest/meta-data/": "169.254.169.254 is a link-local address",
    "http://100.64.1.1/": "100.64.1.1 is a carrier-grade NAT (shared) address",
    "http://0.0.0.0:{port}/": "0.0.0.0 is an unspecified address",
    "http://224.0.0.1/": "224.0.0.1 is a multicast address",
}


@pytest.mark.parametrize(("template", "reason"), SSRF_SPELLINGS.items())
async def test_every_ssrf_spelling_is_refused_with_its_reason(
    site: Site, template: str, reason: str
) -> None:
    site.serve("/feed.xml", "<rss/>")
    url = template.format(port=site.server.port)
    async with open_http_session(NO_EXCEPTIONS) as http:
        with pytest.raises(FetchRefusedError, match=r"^refused: ") as caught:
            await fetch(http, url, NO_EXCEPTIONS)
    assert reason in str(caught.value)
    assert site.requests == []


@pytest.mark.parametrize(
    "target",
    [
        "http://127.0.0.2:{secret}/secret",
        "http://[::ffff:127.0.0.2]:{secret}/secret",
        "http://2130706434:{secret}/secret",
        "http://a.com\\@127.0.0.2:{secret}/secret",
        "http://169.254.169.254/latest/meta-data/",
        "file:///etc/passwd",
    ],
)
async def test_a_redirect_to_a_forbidden_address_is_refused(
    site: Site, secret: Site, http: aiohttp.ClientSession, target: str
) -> None:
    location = target.format(secret=secret.server.port)
    url = site.serve("/feed.xml", "", status=302, headers={"Location": location})
    with pytest.raises(FetchRefusedError, match=r"^refused: "):
        await fetch(http, url, LIMITS)
    assert secret.requests == []


async def test_a_name_that_rebinds_to_a_private_address_between_hops_is_refused(
    site: Site, secret: Site
) -> None:
    # The first lookup gets an allowed address, the next one (for the redirect) an internal one.
    dns = ScriptedResolver(["127.0.0.1"], ["127.0.0.2"])
    url = site.serve(
        "/start",
        "",
        status=302,
        headers={"Location": f"http://rebind.test:{secret.server.port}/secret"},
    )
    async with open_http_session(LIMITS, resolver=dns) as http:
        with pytest.raises(FetchRefusedError) as caught:
            await fetch(http, url.replace("127.0.0.1", "rebind.test"), LIMITS)
    assert str(caught.value) == "refused: rebind.test resolves to 127.0.0.2, a loopback address"
    assert dns.lookups == ["rebind.test", "rebind.test"]
    assert site.hits("/start") == 1
    assert secret.requests == []


async def test_a_name_with_one_public_and_one_private_address_is_refused_whole(
    secret: Site,
) -> None:
    # 203.0.113.0/24 plays a public address here; nothing ever connects to it.
    settings = LIMITS.model_copy(update={"allow_networks": ("203.0.113.0/24",)})
    dns = ScriptedResolver(["203.0.113.5", "127.0.0.2"])
    async with open_http_session(settings, resolver=dns) as http:
        with pytest.raises(
            FetchRefusedError, match=r"resolves to 127\.0\.0\.2, a loopback address"
        ):
            await fetch(http, f"http://mixed.test:{secret.server.port}/secret", settings)
    assert secret.requests == []


@pytest.mark.slow
async def test_one_byte_every_five_seconds_is_cut_off_with_the_default_limits(site: Site) -> None:
    settings = FetchSettings(allow_networks=("127.0.0.1/32",))  # 20 s per read, 60 s in all

    async def trickle(request: web.Request) -> web.StreamResponse:
        response = web.StreamResponse()
        await response.prepare(request)
        with suppress(ConnectionError):
            for _ in range(100):
                await response.write(b"<")
                await asyncio.sleep(5)
        return response

    started = time.perf_counter()
    async with open_http_session(settings) as http:
        with pytest.raises(FetchError, match=r"timed out \(limit 60 s for the whole fetch\)"):
            await fetch(http, site.handle("/trickle.xml", trickle), settings)
    assert time.perf_counter() - started < 62


async def test_publishers_cookies_are_not_kept(site: Site) -> None:
    """One client serves every publisher: none gets its cookies back, nor sees another's."""
    dns = ScriptedResolver(["127.0.0.1"])
    site.serve("/a.xml", "<rss/>", headers={"Set-Cookie": "session=tracking-id; Path=/"})
    site.serve("/b.xml", "<rss/>")
    base = site.url("/").replace("127.0.0.1", "news.test")
    async with open_http_session(LIMITS, resolver=dns) as http:
        await fetch(http, base + "a.xml", LIMITS)
        await fetch(http, base + "b.xml", LIMITS)
        await fetch(http, base + "a.xml", LIMITS)
    assert [request.headers.get("Cookie") for request in site.requests] == [None, None, None]


async def test_validators_do_not_follow_a_redirect_to_another_host(site: Site) -> None:
    dns = ScriptedResolver(["127.0.0.1"])
    port = site.server.port
    site.serve("/same", "", status=302, headers={"Location": "/feed.xml"})
    site.serve("/away", "", status=302, headers={"Location": f"http://other.test:{port}/feed.xml"})
    site.serve("/feed.xml", "<rss/>")
    base = site.url("/").replace("127.0.0.1", "news.test")
    validators = {"etag": '"v1"', "last_modified": "Sat, 27 Jan 2024 10:00:00 GMT"}
    async with open_http_session(LIMITS, resolver=dns) as http:
        await fetch(http, base + "same", LIMITS, **validators)
        await fetch(http, base + "away", LIMITS, **validators)
    sent = [
        (request.host.split(":")[0], request.path, request.headers.get("If-None-Match"))
        for request in site.requests
    ]
    assert sent == [
        ("news.test", "/same", '"v1"'),
        ("news.test", "/feed.xml", '"v1"'),  # the same host: its own validators
        ("news.test", "/away", '"v1"'),
        ("other.test", "/feed.xml", None),
    ]
    assert site.requests[-1].headers.get("If-Modified-Since") is None
