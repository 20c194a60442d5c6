"""Deliver due outbox rows: send, then record delivered, retry-later or dead."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta

import aiohttp
import structlog

from monitor.records import PendingAlert
from monitor.settings import DeliverySettings
from monitor.store import Store
from monitor.webhook import Endpoint, post_alert

log = structlog.get_logger(__name__)


@dataclass(frozen=True, slots=True)
class DeliveryReport:
    """What one delivery pass did."""

    sent: int = 0
    failed: int = 0
    waiting: int = 0


def next_attempt(attempts_made: int, schedule: Sequence[float], now: datetime) -> datetime | None:
    """When to try again after ``attempts_made`` failures; None once the schedule is spent."""
    if attempts_made > len(schedule):
        return None
    return now + timedelta(seconds=schedule[attempts_made - 1])


async def deliver_due(
    store: Store,
    session: aiohttp.ClientSession,
    endpoints: Sequence[Endpoint],
    settings: DeliverySettings,
    clock: Callable[[], datetime],
) -> DeliveryReport:
    """Send every due alert of every endpoint, a batch at a time; failures are recorded and
    retried on their schedule, never raised."""
    sent = failed = waiting = 0
    for endpoint in endpoints:
        if endpoint.url is None:
            due = await store.due_alerts(clock(), endpoint.name, settings.batch_size)
            if due:
                log.warning(
                    "alerts wait for a webhook URL", endpoint=endpoint.name, waiting=len(due)
                )
            waiting += len(due)
            continue
        while due := await store.due_alerts(clock(), endpoint.name, settings.batch_size):
            batch = await _deliver_batch(store, session, endpoint, due, settings, clock)
            sent, failed = sent + batch.sent, failed + batch.failed
            if len(due) < settings.batch_size:
                break
    return DeliveryReport(sent=sent, failed=failed, waiting=waiting)


async def _deliver_batch(
    store: Store,
    session: aiohttp.ClientSession,
    endpoint: Endpoint,
    due: Sequence[PendingAlert],
    settings: DeliverySettings,
    clock: Callable[[], datetime],
) -> DeliveryReport:
    sent = failed = 0
    for alert in due:
        result = await post_alert(
            session,
            endpoint,
            alert.id,
            alert.payload,
            now=clock(),
            timeout_seconds=settings.timeout_seconds,
        )
        if result.ok:
            await store.mark_delivered(alert.id, status_code=result.status_code or 0, now=clock())
            log.info(
                "alert delivered",
                alert_id=alert.id,
                endpoint=endpoint.name,
                status=result.status_code,
            )
            sent += 1
            continue
        retry_at = next_attempt(alert.attempts + 1, settings.retry_seconds, clock())
        await store.mark_failed(
            alert.id,
            error=result.error or "failed",
            status_code=result.status_code,
            next_attempt_at=retry_at,
        )
        log.warning(
            "alert delivery failed",
            alert_id=alert.id,
            endpoint=endpoint.name,
            status=result.status_code,
            error=result.error,
            retry_at=retry_at.isoformat() if retry_at else None,
            dead=retry_at is None,
        )
        failed += 1
    return DeliveryReport(sent=sent, failed=failed)
