"""When to check a feed next: as often as it publishes, within the configured bounds, never
sooner than its publisher asks, later and later while it fails.

Pure functions: the pipeline passes the clock and the random source in.
"""

from __future__ import annotations

import itertools
import random
import re
import statistics
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime, timedelta

from monitor.fetch.http_dates import http_date, retry_after_seconds

JITTER = 0.1
RECENT_ENTRIES = 20
MAX_AGE = re.compile(r"(?:^|,)\s*max-age\s*=\s*\"?(\d+)\"?\s*(?:,|$)", re.IGNORECASE)
NO_FRESHNESS = re.compile(r"(?:^|,)\s*(?:no-cache|no-store)\b", re.IGNORECASE)


@dataclass(frozen=True, slots=True)
class PublisherHints:
    """What a response said about when to come back: raw headers, and the feed's RSS ``<ttl>``."""

    retry_after: str | None = None
    cache_control: str | None = None
    expires: str | None = None
    date: str | None = None
    ttl_seconds: float | None = None


def publishing_interval(
    published: Iterable[datetime | None], now: datetime, *, lowest: float, highest: float
) -> float | None:
    """The mean gap between the feed's most recent entries, within [lowest, highest]; None when
    fewer than two entries carry distinct past dates (the rate is then unknown)."""
    dates = sorted({date for date in published if date is not None and date <= now})
    recent = dates[-RECENT_ENTRIES:]
    if len(recent) < 2:
        return None
    gaps = [(later - earlier).total_seconds() for earlier, later in itertools.pairwise(recent)]
    return min(max(statistics.fmean(gaps), lowest), highest)


def freshness_seconds(
    cache_control: str | None, expires: str | None, date: str | None, now: datetime
) -> float | None:
    """How long the response stays fresh (RFC 9111 §4.2.1, for a private cache): max-age, else
    Expires minus Date; None when the server gives no lifetime or forbids reuse."""
    if cache_control:
        if NO_FRESHNESS.search(cache_control):
            return None
        max_age = MAX_AGE.search(cache_control)
        if max_age:
            return float(max_age.group(1))
    if not expires:
        return None
    expires_at = http_date(expires)
    if expires_at is None:
        return 0.0  # RFC 9111 §5.3: an invalid Expires means "already expired"
    sent_at = http_date(date) if date else None
    return max((expires_at - (sent_at or now)).total_seconds(), 0.0)


def publisher_floor(hints: PublisherHints, now: datetime, *, cap: float) -> float:
    """The shortest delay the publisher allows (Retry-After, freshness lifetime, ``<ttl>``),
    capped: an Expires a year ahead is more often a CDN default than a wish."""
    asked = [
        retry_after_seconds(hints.retry_after, now),
        freshness_seconds(hints.cache_control, hints.expires, hints.date, now),
        hints.ttl_seconds,
    ]
    return min(max((seconds for seconds in asked if seconds is not None), default=0.0), cap)


def success_delay(
    *,
    interval: float,
    floor: float,
    lowest: float,
    highest: float,
    rng: random.Random | None = None,
) -> float:
    """Seconds until the next check after a success: the interval with ±10 % jitter (so feeds
    added together drift apart), kept within [lowest, highest], and never under ``floor``."""
    jittered = interval * (1 + (rng or random).uniform(-JITTER, JITTER))
    return max(min(max(jittered, lowest), highest), floor)


def failure_delay(
    *,
    interval: float,
    error_count: int,
    max_backoff: float,
    floor: float,
    rng: random.Random | None = None,
) -> float:
    """Seconds until the next try after ``error_count`` failures in a row: the interval doubled
    per failure up to ``max_backoff``, with jitter, and never under ``floor``."""
    backoff = min(interval * 2.0 ** min(max(error_count, 1), 30), max_backoff)
    return max(backoff * (1 + (rng or random).uniform(-JITTER, JITTER)), floor)


def after(now: datetime, seconds: float) -> datetime:
    return now + timedelta(seconds=seconds)
