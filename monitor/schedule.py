"""When to check a feed next: its interval after a success, exponential backoff after failures."""

from __future__ import annotations

import random
from datetime import datetime, timedelta

JITTER = 0.1


def next_check(
    now: datetime,
    *,
    interval_seconds: float,
    error_count: int,
    max_backoff_seconds: float,
    rng: random.Random | None = None,
) -> datetime:
    """``interval`` after a success; ``interval * 2^errors`` (capped) after ``error_count``
    failures in a row; ±10 % jitter so feeds added together do not stay in lock-step."""
    delay = interval_seconds
    if error_count > 0:
        delay = min(interval_seconds * 2 ** min(error_count, 20), max_backoff_seconds)
    jitter = (rng or random).uniform(-JITTER, JITTER) * delay
    return now + timedelta(seconds=delay + jitter)
