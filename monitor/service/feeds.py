"""Feeds: a page of them with how each stands, and adding, removing and re-enabling one."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from monitor.deliver.settings import http_url
from monitor.service.context import (
    BadInputError,
    NotFoundError,
    Page,
    Services,
    decode_cursor,
    encode_cursor,
    page_size,
)
from monitor.service.redact import shown
from monitor.store.console_views import FEED_STATES, FeedLine

MAX_URL_LENGTH = 2048
MAX_NAME_LENGTH = 200


@dataclass(frozen=True, slots=True)
class FeedView:
    """A feed as the console and the API show it, secrets hidden."""

    id: int
    url: str
    name: str
    title: str
    origin: str
    state: str
    http_status: int | None
    error_count: int
    last_error: str
    last_checked_at: datetime | None
    last_success_at: datetime | None
    next_check_at: datetime | None  # None: not checked any more
    interval_seconds: float | None
    moved_to: str


@dataclass(frozen=True, slots=True)
class FeedChange:
    """What adding or re-enabling a feed did."""

    feed: FeedView
    added: bool  # False: it was there already, and is enabled and due now


def feed_view(line: FeedLine) -> FeedView:
    return FeedView(
        id=line.id,
        url=shown(line.url),
        name=line.name or "",
        title=line.title,
        origin=line.origin,
        state=line.state,
        http_status=line.last_status,
        error_count=line.error_count,
        last_error=shown(line.disabled_reason or line.last_error),
        last_checked_at=line.last_checked_at,
        last_success_at=line.last_success_at,
        next_check_at=line.next_check_at if line.state in ("ok", "failing") else None,
        interval_seconds=line.poll_interval_seconds,
        moved_to=shown(line.fetch_url),
    )


def checked_feed_url(url: str, field: str = "url") -> str:
    """A feed URL as given, stripped, or BadInputError saying what is wrong with it."""
    url = url.strip()
    if not url:
        raise BadInputError(field, "a feed URL is required")
    if len(url) > MAX_URL_LENGTH:
        raise BadInputError(field, f"a feed URL is at most {MAX_URL_LENGTH} characters")
    try:
        return http_url(url)
    except ValueError as error:
        raise BadInputError(field, f"{shown(url)!r}: {error}") from None


async def list_feeds(
    services: Services, *, cursor: str | None = None, limit: int | None = None, state: str | None
) -> Page[FeedView]:
    size = page_size(limit, 50)
    if state is not None and state not in FEED_STATES:
        raise BadInputError("state", f"expected one of {', '.join(FEED_STATES)}")
    after = int(decode_cursor(cursor, int)[0]) if cursor else 0  # type: ignore[call-overload]
    lines = await services.views.feeds_page(after_id=after, limit=size + 1, state=state)
    more = len(lines) > size
    lines = lines[:size]
    return Page(
        items=[feed_view(line) for line in lines],
        next_cursor=encode_cursor(lines[-1].id) if more else None,
    )


async def get_feed(services: Services, feed_id: int) -> FeedView:
    line = await services.views.feed(feed_id)
    if line is None:
        raise NotFoundError(f"no feed {feed_id}")
    return feed_view(line)


async def add_feed(services: Services, url: str, name: str | None = None) -> FeedChange:
    """Add a feed by hand (checked at once); one already stored is enabled and due now."""
    url = checked_feed_url(url)
    name = (name or "").strip() or None
    if name and len(name) > MAX_NAME_LENGTH:
        raise BadInputError("name", f"a name is at most {MAX_NAME_LENGTH} characters")
    added = await services.store.add_feed(url, name, services.clock())
    stored = await services.views.known_feed_ids([url])
    return FeedChange(feed=await get_feed(services, stored[url]), added=added)


async def enable_feed(services: Services, feed_id: int) -> FeedChange:
    """Check a stopped, gone or disabled feed again from now on."""
    line = await services.views.feed(feed_id)
    if line is None:
        raise NotFoundError(f"no feed {feed_id}")
    await services.store.add_feed(line.url, line.name, services.clock())
    return FeedChange(feed=await get_feed(services, feed_id), added=False)


async def remove_feed(services: Services, feed_id: int) -> FeedView:
    """Remove a feed (its articles stay); returns it as it was."""
    line = await services.views.feed(feed_id)
    if line is None or not await services.store.remove_feed(line.url):
        raise NotFoundError(f"no feed {feed_id}")
    return feed_view(line)


async def remove_feed_by_url(services: Services, url: str) -> bool:
    """Remove the feed stored under ``url``; False if there is none."""
    return await services.store.remove_feed(url.strip())


def in_config(services: Services, url: str) -> bool:
    """Whether ``url`` is a feed of the config file (it comes back at the next start)."""
    return any(feed.url == url for feed in services.settings.feeds)
