"""HTTP dates and Retry-After, as publishers and webhook receivers send them."""

from __future__ import annotations

from datetime import UTC, datetime
from email.utils import parsedate_to_datetime


def retry_after_seconds(value: str | None, now: datetime) -> float | None:
    """Retry-After (RFC 9110 §10.2.3): delay-seconds or an HTTP-date; None if absent or bad."""
    if not value:
        return None
    value = value.strip()
    if value.isdigit():
        return float(value)
    moment = http_date(value)
    return None if moment is None else max((moment - now).total_seconds(), 0.0)


def http_date(value: str) -> datetime | None:
    """An HTTP-date (RFC 9110 §5.6.7) as an aware datetime; None if it cannot be read."""
    try:
        moment = parsedate_to_datetime(value)
    except (TypeError, ValueError, IndexError):
        return None
    return moment.replace(tzinfo=UTC) if moment.tzinfo is None else moment
