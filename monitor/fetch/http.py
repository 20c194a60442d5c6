"""HTTP fetches of feeds and article pages: through the address gate, conditional, bounded in
bytes and in time, following redirects one checked hop at a time."""

from __future__ import annotations

import asyncio
from dataclasses import dataclass
from functools import lru_cache
from urllib.parse import urljoin, urlsplit

import aiohttp
from aiohttp.abc import AbstractResolver
from aiohttp.resolver import DefaultResolver

from monitor.fetch.netguard import (
    GuardedResolver,
    NetworkPolicy,
    guarded_socket_factory,
    refusal_reason,
    url_problem,
)
from monitor.fetch.settings import FetchSettings

FEED_ACCEPT = (
    "application/rss+xml, application/atom+xml, application/rdf+xml, application/xml;q=0.9, "
    "text/xml;q=0.9, */*;q=0.5"
)
PAGE_ACCEPT = "text/html, application/xhtml+xml;q=0.9, */*;q=0.5"
REDIRECTS = frozenset({301, 302, 303, 307, 308})
PERMANENT_REDIRECTS = frozenset({301, 308})
CHUNK_BYTES = 64 * 1024


class FetchError(Exception):
    """A fetch failed; the message is the reason an operator reads in the logs."""


class FetchRefusedError(FetchError):
    """The address gate refused the fetch (a private address, a forbidden scheme…)."""


class HTTPStatusError(FetchError):
    """The server answered with an error status; ``retry_after`` is its header, if any."""

    def __init__(self, status: int, reason: str, retry_after: str | None = None) -> None:
        super().__init__(f"HTTP {status} {reason}".strip())
        self.status = status
        self.retry_after = retry_after


@dataclass(frozen=True, slots=True)
class Fetched:
    """The outcome of one fetch: a body, or ``not_modified`` with no body.

    ``etag`` and ``last_modified`` are the validators to store for the next conditional GET;
    ``moved_to`` is the new address when every redirect on the way was permanent; the freshness
    headers are kept raw for the scheduler to read.
    """

    url: str
    status: int
    body: bytes
    content_type: str | None
    charset: str | None
    etag: str | None
    last_modified: str | None
    moved_to: str | None = None
    cache_control: str | None = None
    expires: str | None = None
    date: str | None = None
    retry_after: str | None = None

    @property
    def not_modified(self) -> bool:
        return self.status == 304


def open_http_session(
    settings: FetchSettings, *, resolver: AbstractResolver | None = None
) -> aiohttp.ClientSession:
    """The daemon's HTTP client for feeds and articles: every connection through the gate.

    ``resolver`` replaces the system's DNS (tests use it to play a hostile DNS server).
    """
    policy = network_policy(settings.allow_networks)
    connector = aiohttp.TCPConnector(
        limit=settings.concurrency * 2,
        limit_per_host=settings.per_host_concurrency,
        ttl_dns_cache=300,
        resolver=GuardedResolver(resolver or DefaultResolver(), policy),
        socket_factory=guarded_socket_factory(policy),
    )
    return aiohttp.ClientSession(
        connector=connector,
        headers={"User-Agent": settings.user_agent},
        # One session serves every publisher: a shared jar would hand one site's cookies back
        # to it across feeds and articles, and keep them all in memory.
        cookie_jar=aiohttp.DummyCookieJar(),
        trust_env=False,  # a proxy from the environment would hide the address we connect to
        auto_decompress=True,
    )


@lru_cache(maxsize=16)
def socket_timeouts(connect_seconds: float, read_seconds: float) -> aiohttp.ClientTimeout:
    """The per-socket bounds of a request; the whole fetch is bounded apart, redirects and
    all."""
    return aiohttp.ClientTimeout(total=None, sock_connect=connect_seconds, sock_read=read_seconds)


@lru_cache(maxsize=16)
def network_policy(allow_networks: tuple[str, ...]) -> NetworkPolicy:
    return NetworkPolicy.of(allow_networks)


async def fetch(
    session: aiohttp.ClientSession,
    url: str,
    settings: FetchSettings,
    *,
    accept: str = FEED_ACCEPT,
    etag: str | None = None,
    last_modified: str | None = None,
) -> Fetched:
    """GET ``url``, sending back the validators of the last response, and read at most
    ``settings.max_bytes`` of (decompressed) body, all within the total timeout."""
    headers = {"Accept": accept}
    if etag:
        headers["If-None-Match"] = etag
    if last_modified:
        headers["If-Modified-Since"] = last_modified
    try:
        async with asyncio.timeout(settings.total_timeout_seconds):
            return await _follow(session, url, settings, headers, etag, last_modified)
    except TimeoutError as error:
        raise FetchError(_timeout_reason(error, settings)) from None
    except (UnicodeError, ValueError) as error:
        # A URL the gate let through but the client cannot encode (an IDNA corner case).
        raise FetchError(f"malformed URL: {type(error).__name__}: {error}") from None
    except aiohttp.ClientError as error:
        refused = refusal_reason(error)
        if refused:
            raise FetchRefusedError(f"refused: {refused}") from None
        if isinstance(error, aiohttp.ClientResponseError):
            raise FetchError(f"bad response: {error.message}") from None
        raise FetchError(f"{type(error).__name__}: {error}") from None


async def _follow(
    session: aiohttp.ClientSession,
    url: str,
    settings: FetchSettings,
    headers: dict[str, str],
    etag: str | None,
    last_modified: str | None,
) -> Fetched:
    """Follow redirects by hand, so that each hop's URL passes the gate and the kind of each
    redirect is known (only an all-permanent chain moves a feed)."""
    policy = network_policy(settings.allow_networks)
    timeout = socket_timeouts(settings.connect_timeout_seconds, settings.read_timeout_seconds)
    permanent = True
    current = url
    for _hop in range(settings.max_redirects + 1):
        problem = url_problem(current, policy)
        if problem:
            raise FetchRefusedError(f"refused: {problem}")
        if current != url and _host(current) != _host(url):
            # Validators belong to the representation of the first host; another host must
            # not get them (they may identify the reader, or match by chance and answer 304).
            headers = {
                name: value
                for name, value in headers.items()
                if name not in ("If-None-Match", "If-Modified-Since")
            }
        async with session.get(
            current, headers=headers, allow_redirects=False, timeout=timeout
        ) as response:
            location = response.headers.get("Location")
            if response.status in REDIRECTS and location:
                permanent = permanent and response.status in PERMANENT_REDIRECTS
                current = urljoin(current, location.strip())
                continue
            return await _outcome(
                response,
                settings,
                etag,
                last_modified,
                moved_to=current if permanent and current != url else None,
            )
    raise FetchError(f"more than {settings.max_redirects} redirects")


async def _outcome(
    response: aiohttp.ClientResponse,
    settings: FetchSettings,
    etag: str | None,
    last_modified: str | None,
    *,
    moved_to: str | None,
) -> Fetched:
    found = response.headers
    if response.status == 304:
        body = b""
        # RFC 9111 §4.3.4: a 304 updates the stored validators it carries, one by one; one
        # may change while the other does not.
        etag = found.get("ETag") or etag
        last_modified = found.get("Last-Modified") or last_modified
    elif 200 <= response.status < 300:
        body = await _read_capped(response, settings.max_bytes)
        # A new representation: its own validators, and none it does not send.
        etag, last_modified = found.get("ETag"), found.get("Last-Modified")
    else:
        raise HTTPStatusError(response.status, response.reason or "", found.get("Retry-After"))
    return Fetched(
        url=str(response.url),
        status=response.status,
        body=body,
        content_type=found.get("Content-Type"),
        charset=response.charset,
        etag=etag,
        last_modified=last_modified,
        moved_to=moved_to,
        cache_control=found.get("Cache-Control"),
        expires=found.get("Expires"),
        date=found.get("Date"),
        retry_after=found.get("Retry-After"),
    )


async def _read_capped(response: aiohttp.ClientResponse, limit: int) -> bytes:
    """Read the body, decompressed, and stop as soon as it passes ``limit`` bytes: a gzip bomb
    costs at most ``limit`` plus one chunk of memory."""
    declared = response.content_length
    if declared is not None and declared > limit and "Content-Encoding" not in response.headers:
        raise FetchError(f"body of {declared} bytes is over the {limit}-byte limit")
    chunks: list[bytes] = []
    size = 0
    async for chunk in response.content.iter_chunked(CHUNK_BYTES):
        size += len(chunk)
        if size > limit:
            raise FetchError(f"body is over the {limit}-byte limit")
        chunks.append(chunk)
    return b"".join(chunks)


def _host(url: str) -> str:
    """The host and port of ``url``, lower-cased, to tell whether a redirect left the site."""
    parts = urlsplit(url)
    return f"{(parts.hostname or '').lower()}:{parts.port or parts.scheme}"


def _timeout_reason(error: TimeoutError, settings: FetchSettings) -> str:
    if isinstance(error, aiohttp.ConnectionTimeoutError):
        return f"timed out connecting (limit {settings.connect_timeout_seconds:g} s)"
    if isinstance(error, aiohttp.SocketTimeoutError):
        return f"timed out waiting for data (limit {settings.read_timeout_seconds:g} s)"
    return f"timed out (limit {settings.total_timeout_seconds:g} s for the whole fetch)"
