"""The orchestrator: one feed check from fetch to stored alert, reading top to bottom.

fetch (conditional) → parse → topic prefilter on title + summary → new? → fetch and extract the
article page → match again on the full text → summarise and fingerprint → store the article in
its story, with its alerts, in one transaction. Every stage but fetching and storing is a pure
function. The entry stages live in ``entries.py``, each entry contained there: one entry's
failure never fails the feed's check.
"""

from __future__ import annotations

import asyncio
import hashlib
import random
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field, replace
from datetime import datetime

import aiohttp
import structlog

from monitor.app.entries import contained_entry
from monitor.app.metrics import Metrics
from monitor.app.saving import ArticleBatches
from monitor.deliver.webhook import Endpoint
from monitor.fetch.http import (
    Fetched,
    FetchError,
    FetchRefusedError,
    HTTPStatusError,
    fetch,
)
from monitor.fetch.schedule import (
    PublisherHints,
    after,
    failure_delay,
    publisher_floor,
    publishing_interval,
    success_delay,
)
from monitor.fetch.slots import FetchSlots
from monitor.match.topic import Topic
from monitor.parse.feed import FeedParseError, parse_feed
from monitor.records import Feed, FeedEntry
from monitor.settings import Settings
from monitor.store.facade import Store
from monitor.store.feeds import ParsedCheck, UnchangedCheck
from monitor.text.redact import redact

log = structlog.get_logger(__name__)


@dataclass(frozen=True, slots=True)
class PipelineContext:
    """Everything a feed check needs, opened once by the daemon or the CLI."""

    settings: Settings
    store: Store
    http: aiohttp.ClientSession  # feeds and articles, through the address gate
    webhooks: aiohttp.ClientSession  # the operator's own endpoints, not gated
    topics: tuple[Topic, ...]
    endpoints: tuple[Endpoint, ...]
    clock: Callable[[], datetime]
    fetch_slots: FetchSlots
    articles: ArticleBatches  # matched articles, saved in batches
    rng: random.Random = field(default_factory=random.Random)
    metrics: Metrics = field(default_factory=Metrics)


@dataclass(frozen=True, slots=True)
class FeedReport:
    """What one feed check did."""

    feed_url: str
    error: str | None = None
    new_articles: int = 0
    matches: int = 0
    alerts: int = 0
    outcome: str = "ok"  # ok, unchanged, error, refused, gone
    entries: int = 0
    failed_entries: int = 0  # entries a stage failed on; tried again at the next check


@dataclass(frozen=True, slots=True)
class CycleReport:
    """What one pass over a set of feeds did."""

    feeds: int
    failed: int
    new_articles: int
    matches: int
    alerts: int

    @classmethod
    def of(cls, reports: Sequence[FeedReport]) -> CycleReport:
        return cls(
            feeds=len(reports),
            failed=sum(1 for report in reports if report.error is not None),
            new_articles=sum(report.new_articles for report in reports),
            matches=sum(report.matches for report in reports),
            alerts=sum(report.alerts for report in reports),
        )


@dataclass(slots=True)
class Checks:
    """The successful checks of one poll, written together when it ends: one statement for
    the unchanged feeds (on a warm cycle nearly all of them), one for those read."""

    unchanged: list[UnchangedCheck] = field(default_factory=list)
    parsed: list[ParsedCheck] = field(default_factory=list)


async def poll_feeds(context: PipelineContext, feeds: Sequence[Feed]) -> CycleReport:
    """Check ``feeds`` concurrently (bounded by the fetch slots); a failure never stops another.

    A feed's new validators and body hash are written after its entries are stored (here, at
    the end of the poll): a crash before then makes the next check read the entries again,
    and skip those already stored, rather than miss any.
    """
    checks = Checks()
    reports = await asyncio.gather(*(refresh_feed(context, feed, checks) for feed in feeds))
    now = context.clock()
    try:
        await context.store.record_unchanged(checks.unchanged, now)
    except Exception:
        log.exception("could not record the unchanged feeds; they will be checked again")
    try:
        await context.store.record_parsed(checks.parsed, now)
    except Exception:
        log.exception("could not record the feeds read; they will be read again")
    return CycleReport.of(reports)


async def refresh_feed(context: PipelineContext, feed: Feed, checks: Checks) -> FeedReport:
    """Check one feed and process its new entries; failures are logged and recorded, not raised.

    A successful check is added to ``checks``, for the caller to record.
    """
    started = time.perf_counter()
    # Every line logged while checking the feed names it. (Set and reset by token: cheaper
    # than bound_contextvars, which copies the whole context first, ten thousand times a cycle.)
    bound = structlog.contextvars.bind_contextvars(feed_url=feed.url)
    try:
        report = await _refresh(context, feed, checks)
    except (FetchError, FeedParseError) as error:
        report = await _failed(context, feed, error)
    except Exception as error:
        log.exception("feed check crashed")
        report = await _failed(context, feed, error, internal=True)
    finally:
        structlog.contextvars.reset_contextvars(**bound)
    context.metrics.record_feed(report.outcome, time.perf_counter() - started, report.entries)
    return report


async def _refresh(context: PipelineContext, feed: Feed, checks: Checks) -> FeedReport:
    async with context.fetch_slots.hold(feed.location):
        fetched = await fetch(
            context.http,
            feed.location,
            context.settings.fetch,
            etag=feed.etag,
            last_modified=feed.last_modified,
        )
    if fetched.moved_to:
        log.info("feed moved permanently", new_url=fetched.moved_to)
    body_hash = hashlib.sha256(fetched.body).hexdigest() if not fetched.not_modified else None
    if fetched.not_modified or body_hash == feed.body_hash:
        now = context.clock()
        next_check_at = _next_check(
            context, now, fetched, feed.poll_interval_seconds, feed.ttl_seconds
        )
        checks.unchanged.append(_check(feed, fetched, next_check_at))
        return FeedReport(feed_url=feed.url, outcome="unchanged")
    parsed = parse_feed(fetched.body, fetched.url, fetched.content_type)
    if parsed.warning:
        log.warning("feed is ill-formed but readable", error=parsed.warning)
    slots = asyncio.Semaphore(context.settings.poll.article_concurrency)

    async def bounded(entry: FeedEntry) -> tuple[int, int, int] | None:
        async with slots:
            return await contained_entry(context, feed, parsed.title, entry)

    results = await asyncio.gather(*(bounded(entry) for entry in parsed.entries))
    outcomes = [result for result in results if result is not None]
    failed = len(results) - len(outcomes)
    if failed:
        # Forget the validators and the body's hash, so the next check reads the entries
        # again and retries the failed ones (those stored meanwhile are known, and skipped).
        fetched, body_hash = replace(fetched, etag=None, last_modified=None), None
    now = context.clock()
    poll = context.settings.poll
    interval = publishing_interval(
        (entry.published_at for entry in parsed.entries),
        now,
        lowest=poll.min_interval_seconds,
        highest=poll.max_interval_seconds,
    )
    next_check_at = _next_check(context, now, fetched, interval, parsed.ttl_seconds)
    checks.parsed.append(
        ParsedCheck(
            check=_check(feed, fetched, next_check_at),
            body_hash=body_hash,
            title=parsed.title,
            poll_interval_seconds=interval,
            ttl_seconds=parsed.ttl_seconds,
        )
    )
    report = FeedReport(
        feed_url=feed.url,
        entries=len(parsed.entries),
        new_articles=sum(new for new, _, _ in outcomes),
        matches=sum(matches for _, matches, _ in outcomes),
        alerts=sum(alerts for _, _, alerts in outcomes),
        failed_entries=failed,
    )
    log.info(
        "feed checked",
        entries=len(parsed.entries),
        failed_entries=failed,
        new_articles=report.new_articles,
        matches=report.matches,
        alerts=report.alerts,
        interval_seconds=interval,
    )
    return report


def _next_check(
    context: PipelineContext,
    now: datetime,
    fetched: Fetched,
    interval: float | None,
    ttl_seconds: float | None,
) -> datetime:
    poll = context.settings.poll
    hints = PublisherHints(
        retry_after=fetched.retry_after,
        cache_control=fetched.cache_control,
        expires=fetched.expires,
        date=fetched.date,
        ttl_seconds=ttl_seconds,
    )
    delay = success_delay(
        interval=interval or poll.interval_seconds,
        floor=publisher_floor(hints, now, cap=poll.max_hint_seconds),
        lowest=poll.min_interval_seconds,
        highest=poll.max_interval_seconds,
        rng=context.rng,
    )
    return after(now, delay)


def _check(feed: Feed, fetched: Fetched, next_check_at: datetime) -> UnchangedCheck:
    return UnchangedCheck(
        feed_id=feed.id,
        status=fetched.status,
        etag=fetched.etag,
        last_modified=fetched.last_modified,
        next_check_at=next_check_at,
        moved_to=fetched.moved_to,
    )


async def _failed(
    context: PipelineContext, feed: Feed, error: Exception, *, internal: bool = False
) -> FeedReport:
    """Record a failed check: refusals are counted, 410 Gone disables the feed, and the next
    try backs off exponentially, never sooner than a Retry-After."""
    # The reason is stored and printed by `monitor feeds list`: no secret of the feed's URL.
    reason = redact(f"internal error: {type(error).__name__}: {error}" if internal else str(error))
    status = error.status if isinstance(error, HTTPStatusError) else None
    gone = status == 410
    if gone:
        reason = f"{reason}: the publisher removed the feed; disabled (`monitor feeds add` resumes)"
    if isinstance(error, FetchRefusedError):
        log.warning("feed fetch refused", reason=reason)
    log.warning("feed check failed", error=reason, status=status)
    now = context.clock()
    poll = context.settings.poll
    retry_after = error.retry_after if isinstance(error, HTTPStatusError) else None
    delay = failure_delay(
        interval=feed.poll_interval_seconds or poll.interval_seconds,
        error_count=feed.error_count + 1,
        max_backoff=poll.max_backoff_seconds,
        floor=publisher_floor(
            PublisherHints(retry_after=retry_after), now, cap=poll.max_hint_seconds
        ),
        rng=context.rng,
    )
    try:
        await context.store.record_feed_failure(
            feed.id,
            now=now,
            error=reason,
            status=status,
            next_check_at=after(now, delay),
            refused=isinstance(error, FetchRefusedError),
            disable=gone,
        )
    except Exception:
        log.exception("could not record the feed failure")
    outcome = "gone" if gone else "refused" if isinstance(error, FetchRefusedError) else "error"
    return FeedReport(feed_url=feed.url, error=reason, outcome=outcome)
