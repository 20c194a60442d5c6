"""HTTP fetches of feeds and article pages: conditional, bounded in bytes and in time."""

from __future__ import annotations

from dataclasses import dataclass

import aiohttp

from monitor.settings import FetchSettings

FEED_ACCEPT = (
    "application/rss+xml, application/atom+xml, application/rdf+xml, application/xml;q=0.9, "
    "text/xml;q=0.9, */*;q=0.5"
)
PAGE_ACCEPT = "text/html, application/xhtml+xml;q=0.9, */*;q=0.5"


class FetchError(Exception):
    """A fetch failed; the message is the reason an operator reads in the logs."""


@dataclass(frozen=True, slots=True)
class Fetched:
    """The outcome of one fetch: a body, or ``not_modified`` with no body."""

    url: str
    status: int
    body: bytes
    content_type: str | None
    charset: str | None
    etag: str | None
    last_modified: str | None

    @property
    def not_modified(self) -> bool:
        return self.status == 304


def open_http_session(settings: FetchSettings) -> aiohttp.ClientSession:
    """The daemon's one HTTP client: connection pooling, a per-host cap, our User-Agent."""
    connector = aiohttp.TCPConnector(
        limit=settings.concurrency * 2, limit_per_host=2, ttl_dns_cache=300
    )
    return aiohttp.ClientSession(
        connector=connector,
        headers={"User-Agent": settings.user_agent},
        timeout=_timeout(settings),
        trust_env=False,
    )


def _timeout(settings: FetchSettings) -> aiohttp.ClientTimeout:
    return aiohttp.ClientTimeout(
        total=settings.total_timeout_seconds,
        sock_connect=settings.connect_timeout_seconds,
        sock_read=settings.read_timeout_seconds,
    )


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
    ``settings.max_bytes`` of (decompressed) body before giving up."""
    if not url.lower().startswith(("http://", "https://")):
        raise FetchError(f"refused: only http and https URLs are fetched, not {url!r}")
    headers = {"Accept": accept}
    if etag:
        headers["If-None-Match"] = etag
    if last_modified:
        headers["If-Modified-Since"] = last_modified
    try:
        async with session.get(
            url,
            headers=headers,
            max_redirects=settings.max_redirects,
            allow_redirects=True,
            timeout=_timeout(settings),
        ) as response:
            if response.status == 304:
                body = b""
            elif 200 <= response.status < 300:
                body = await _read_capped(response, settings.max_bytes)
            else:
                raise FetchError(f"HTTP {response.status} {response.reason or ''}".strip())
            return Fetched(
                url=str(response.url),
                status=response.status,
                body=body,
                content_type=response.headers.get("Content-Type"),
                charset=response.charset,
                etag=response.headers.get("ETag") or etag,
                last_modified=response.headers.get("Last-Modified") or last_modified,
            )
    except aiohttp.TooManyRedirects:
        raise FetchError(f"more than {settings.max_redirects} redirects") from None
    except TimeoutError:
        raise FetchError(f"timed out (limit {settings.total_timeout_seconds:g} s)") from None
    except aiohttp.ClientResponseError as error:
        raise FetchError(f"bad response: {error.message}") from None
    except aiohttp.ClientError as error:
        raise FetchError(f"{type(error).__name__}: {error}") from None


async def _read_capped(response: aiohttp.ClientResponse, limit: int) -> bytes:
    declared = response.content_length
    if declared is not None and declared > limit and "Content-Encoding" not in response.headers:
        raise FetchError(f"body of {declared} bytes is over the {limit}-byte limit")
    chunks: list[bytes] = []
    size = 0
    async for chunk in response.content.iter_chunked(64 * 1024):
        size += len(chunk)
        if size > limit:
            raise FetchError(f"body is over the {limit}-byte limit")
        chunks.append(chunk)
    return b"".join(chunks)
