"""Fetching with bounds, against real local servers."""

from __future__ import annotations

import asyncio
import gzip
from collections.abc import AsyncIterator

import aiohttp
import pytest
from aiohttp import web

from monitor.fetcher import FetchError, fetch, open_http_session
from monitor.settings import FetchSettings
from tests.web import Site

LIMITS = FetchSettings(
    max_bytes=64 * 1024,
    total_timeout_seconds=3,
    read_timeout_seconds=1,
    connect_timeout_seconds=1,
    max_redirects=3,
)


@pytest.fixture
async def http() -> AsyncIterator[aiohttp.ClientSession]:
    async with open_http_session(LIMITS) as session:
        yield session


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


async def test_a_body_over_the_limit_is_refused(site: Site, http: aiohttp.ClientSession) -> None:
    url = site.serve("/big.xml", b"x" * (LIMITS.max_bytes + 1))
    with pytest.raises(FetchError, match="over the 65536-byte limit"):
        await fetch(http, url, LIMITS)


async def test_a_compressed_body_is_capped_after_decompression(
    site: Site, http: aiohttp.ClientSession
) -> None:
    bomb = gzip.compress(b"\0" * (10 * 1024 * 1024))  # 10 KB on the wire, 10 MB inflated

    async def handler(_request: web.Request) -> web.Response:
        return web.Response(
            body=bomb, headers={"Content-Encoding": "gzip", "Content-Type": "application/rss+xml"}
        )

    with pytest.raises(FetchError, match="over the 65536-byte limit"):
        await fetch(http, site.handle("/bomb.xml", handler), LIMITS)


async def test_a_server_that_stalls_is_cut_off(site: Site, http: aiohttp.ClientSession) -> None:
    async def stall(request: web.Request) -> web.StreamResponse:
        response = web.StreamResponse()
        await response.prepare(request)
        for _ in range(30):
            await response.write(b"<")
            await asyncio.sleep(2)
        return response

    with pytest.raises(FetchError, match="timed out"):
        await fetch(http, site.handle("/slow.xml", stall), LIMITS)


async def test_errors_and_redirect_loops_are_reported(
    site: Site, http: aiohttp.ClientSession
) -> None:
    with pytest.raises(FetchError, match="HTTP 410 Gone"):
        await fetch(http, site.serve("/gone.xml", "", status=410), LIMITS)

    async def loop(_request: web.Request) -> web.Response:
        raise web.HTTPFound("/loop.xml")

    with pytest.raises(FetchError, match="more than 3 redirects"):
        await fetch(http, site.handle("/loop.xml", loop), LIMITS)


@pytest.mark.parametrize("url", ["file:///etc/passwd", "ftp://example.com/feed", "gopher://x"])
async def test_only_http_is_fetched(url: str, http: aiohttp.ClientSession) -> None:
    with pytest.raises(FetchError, match="only http and https"):
        await fetch(http, url, LIMITS)


async def test_a_closed_port_is_an_ordinary_error(http: aiohttp.ClientSession) -> None:
    with pytest.raises(FetchError, match="ClientConnectorError"):
        await fetch(http, "http://127.0.0.1:9/feed.xml", LIMITS)
