"""The schedule's pure rules: publishing rate, publisher hints, jitter, backoff."""

from __future__ import annotations

import itertools
import random
from datetime import UTC, datetime, timedelta

import pytest

from monitor.fetch.http_dates import retry_after_seconds
from monitor.fetch.schedule import (
    PublisherHints,
    failure_delay,
    freshness_seconds,
    publisher_floor,
    publishing_interval,
    success_delay,
)

NOW = datetime(2024, 1, 26, 12, 0, tzinfo=UTC)
MINUTE = 60.0
HOUR = 3600.0


def every(minutes: float, count: int = 10) -> list[datetime | None]:
    return [NOW - timedelta(minutes=minutes * n) for n in range(count)]


def test_the_interval_follows_the_publishing_rate_within_bounds() -> None:
    bounds = {"lowest": 5 * MINUTE, "highest": 6 * HOUR}
    assert publishing_interval(every(30), NOW, **bounds) == 30 * MINUTE
    assert publishing_interval(every(1), NOW, **bounds) == 5 * MINUTE
    assert publishing_interval(every(24 * 60), NOW, **bounds) == 6 * HOUR


def test_an_unknown_rate_is_none() -> None:
    bounds = {"lowest": 5 * MINUTE, "highest": 6 * HOUR}
    assert publishing_interval([], NOW, **bounds) is None
    assert publishing_interval([None, None, NOW], NOW, **bounds) is None
    assert publishing_interval([NOW, NOW], NOW, **bounds) is None  # one distinct date
    future = [NOW + timedelta(days=n) for n in range(1, 5)]
    assert publishing_interval([*future, NOW], NOW, **bounds) is None  # future dates ignored


def test_only_recent_entries_count() -> None:
    old = [NOW - timedelta(days=300 + n) for n in range(50)]
    recent = every(20, 25)
    assert publishing_interval([*old, *recent], NOW, lowest=1, highest=1e9) == 20 * MINUTE


@pytest.mark.parametrize(
    ("value", "seconds"),
    [
        ("120", 120.0),
        (" 30 ", 30.0),
        ("Fri, 26 Jan 2024 13:00:00 GMT", HOUR),
        ("Fri, 26 Jan 2024 11:00:00 GMT", 0.0),  # already past
        ("soon", None),
        ("-5", None),
        (None, None),
    ],
)
def test_retry_after_in_seconds_or_as_a_date(value: str | None, seconds: float | None) -> None:
    assert retry_after_seconds(value, NOW) == seconds


@pytest.mark.parametrize(
    ("cache_control", "expires", "date", "seconds"),
    [
        ("max-age=600", None, None, 600.0),
        ("public, max-age=600, must-revalidate", "Fri, 26 Jan 2024 20:00:00 GMT", None, 600.0),
        ("s-maxage=900", None, None, None),  # for shared caches only
        ("no-cache, max-age=600", None, None, None),
        (None, "Fri, 26 Jan 2024 14:00:00 GMT", "Fri, 26 Jan 2024 12:00:00 GMT", 2 * HOUR),
        (None, "Fri, 26 Jan 2024 14:00:00 GMT", None, 2 * HOUR),
        (None, "0", None, 0.0),  # an invalid Expires means already expired
        (None, None, None, None),
    ],
)
def test_freshness_lifetime_per_rfc_9111(
    cache_control: str | None, expires: str | None, date: str | None, seconds: float | None
) -> None:
    assert freshness_seconds(cache_control, expires, date, NOW) == seconds


def test_the_publisher_floor_is_the_longest_hint_capped() -> None:
    hints = PublisherHints(retry_after="120", cache_control="max-age=600", ttl_seconds=3 * HOUR)
    assert publisher_floor(hints, NOW, cap=24 * HOUR) == 3 * HOUR
    assert publisher_floor(PublisherHints(), NOW, cap=24 * HOUR) == 0.0
    year = PublisherHints(expires="Sat, 25 Jan 2025 12:00:00 GMT")
    assert publisher_floor(year, NOW, cap=24 * HOUR) == 24 * HOUR


def test_success_delay_jitters_within_bounds_and_never_undercuts_the_floor() -> None:
    rng = random.Random(7)
    delays = [
        success_delay(interval=HOUR, floor=0, lowest=5 * MINUTE, highest=6 * HOUR, rng=rng)
        for _ in range(200)
    ]
    assert 0.9 * HOUR <= min(delays) < max(delays) <= 1.1 * HOUR
    assert len({round(delay) for delay in delays}) > 100  # feeds drift apart
    lowest = [
        success_delay(interval=5 * MINUTE, floor=0, lowest=5 * MINUTE, highest=HOUR, rng=rng)
        for _ in range(50)
    ]
    assert min(lowest) >= 5 * MINUTE
    assert (
        success_delay(interval=HOUR, floor=12 * HOUR, lowest=5 * MINUTE, highest=6 * HOUR)
        == 12 * HOUR
    )


def test_failures_back_off_exponentially_up_to_the_cap() -> None:
    rng = random.Random(1)
    delays = [
        failure_delay(interval=300, error_count=n, max_backoff=6 * HOUR, floor=0, rng=rng)
        for n in range(1, 12)
    ]
    assert 540 <= delays[0] <= 660  # 2 x 5 min, ±10 %
    assert all(later > earlier for earlier, later in itertools.pairwise(delays[:7]))
    assert max(delays) <= 6 * HOUR * 1.1
    assert failure_delay(interval=300, error_count=1, max_backoff=HOUR, floor=2 * HOUR) == (
        2 * HOUR
    )
