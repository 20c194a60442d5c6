"""Deliver the outbox: claim due rows, render and send them, record delivered, retry-later,
held or dead.

The sender talks to the outbox through ``AlertOutbox``, the small contract the store fulfils, and
reports each attempt to an optional ``on_attempt`` callback (the daemon's metrics)."""

from __future__ import annotations

import asyncio
import random
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Protocol

import aiohttp
import structlog

from monitor.deliver.payloads import render_payload
from monitor.deliver.settings import DeliverySettings
from monitor.deliver.webhook import Endpoint, PostResult, delivery_error, post_alert
from monitor.fetch.http_dates import retry_after_seconds
from monitor.records import PendingAlert
from monitor.triggers import renewing

log = structlog.get_logger(__name__)

JITTER = 0.1
MAX_RETRY_AFTER_SECONDS = 24 * 3600  # a receiver cannot park an alert for longer than a day


class EndpointHold(Protocol):
    """What the sender needs to know of an endpoint's state."""

    @property
    def disabled_reason(self) -> str | None: ...

    @property
    def pending(self) -> int: ...


class AlertOutbox(Protocol):
    """The outbox operations a sender uses; the store implements them."""

    async def endpoint_states(self) -> Mapping[str, EndpointHold]: ...

    async def claim_due(
        self, endpoint: str, now: datetime, limit: int, lease_seconds: float
    ) -> list[PendingAlert]: ...

    async def extend_claims(self, alerts: Sequence[PendingAlert], until: datetime) -> int: ...

    async def release(self, alerts: Sequence[PendingAlert]) -> None: ...

    async def record_attempt(
        self,
        alert: PendingAlert,
        *,
        now: datetime,
        status_code: int | None,
        error: str | None,
        duration_ms: int,
        outcome: str,
        next_attempt_at: datetime | None = None,
    ) -> bool: ...

    async def disable_endpoint(self, name: str, reason: str, now: datetime) -> None: ...


# Told of each attempt that reached a receiver or failed on the way: its outcome, its duration.
AttemptObserver = Callable[[str, int], None]


@dataclass(frozen=True, slots=True)
class DeliveryReport:
    """What one delivery pass did."""

    sent: int = 0
    failed: int = 0
    waiting: int = 0


def next_attempt(
    attempts_made: int,
    schedule: Sequence[float],
    now: datetime,
    *,
    retry_after: float | None = None,
    rng: random.Random | None = None,
) -> datetime | None:
    """When to try again after ``attempts_made`` attempts (the first one immediate, then the
    schedule's waits, ±10 % jitter), never sooner than the receiver's ``Retry-After``; None
    once the schedule is spent."""
    if attempts_made > len(schedule):
        return None
    delay = schedule[attempts_made - 1] * (1 + (rng or random).uniform(-JITTER, JITTER))
    if retry_after is not None:
        delay = max(delay, min(retry_after, MAX_RETRY_AFTER_SECONDS))
    return now + timedelta(seconds=delay)


async def deliver_due(
    store: AlertOutbox,
    session: aiohttp.ClientSession,
    endpoints: Sequence[Endpoint],
    settings: DeliverySettings,
    clock: Callable[[], datetime],
    rng: random.Random | None = None,
    on_attempt: AttemptObserver | None = None,
) -> DeliveryReport:
    """Send every due alert of every endpoint, a claimed batch at a time; failures are
    recorded and retried on their schedule, never raised."""
    states = await store.endpoint_states()
    sent = failed = waiting = 0
    for endpoint in endpoints:
        state = states.get(endpoint.name)
        if endpoint.url is None or (state is not None and state.disabled_reason):
            held = state.pending if state is not None else 0
            if held:
                why = state.disabled_reason if state and state.disabled_reason else "no URL"
                log.warning("alerts are held", endpoint=endpoint.name, waiting=held, reason=why)
            waiting += held
            continue
        sender = _Sender(
            store, session, endpoint, settings, clock, rng or random.Random(), on_attempt
        )
        while batch := await store.claim_due(
            endpoint.name, clock(), settings.claim_size(), settings.lease_seconds
        ):
            outcomes = await sender.send(batch)
            sent += outcomes.count("delivered")
            failed += sum(outcome in ("retry", "dead", "held") for outcome in outcomes)
            if sender.gone or len(batch) < settings.claim_size():
                break
    return DeliveryReport(sent=sent, failed=failed, waiting=waiting)


class _Sender:
    """Sends one endpoint's claimed alerts, a few at a time, and records each outcome."""

    def __init__(
        self,
        store: AlertOutbox,
        session: aiohttp.ClientSession,
        endpoint: Endpoint,
        settings: DeliverySettings,
        clock: Callable[[], datetime],
        rng: random.Random,
        on_attempt: AttemptObserver | None,
    ) -> None:
        self._store, self._session, self._endpoint = store, session, endpoint
        self._settings, self._clock, self._rng = settings, clock, rng
        self._on_attempt = on_attempt
        self._slots = asyncio.Semaphore(settings.concurrency)
        self.gone = False

    async def send(self, batch: Sequence[PendingAlert]) -> list[str]:
        """Send a claimed batch, renewing its claim while receivers take their time, so no
        other sender takes an alert this one is still sending."""
        lease = self._settings.lease_seconds

        async def renew() -> None:
            await self._store.extend_claims(batch, self._clock() + timedelta(seconds=lease))

        async with renewing(lease / 3, renew):
            return list(await asyncio.gather(*(self._send_one(alert) for alert in batch)))

    async def _send_one(self, alert: PendingAlert) -> str:
        async with self._slots:
            if self.gone:  # the receiver said 410 while this alert waited its turn
                await self._store.release([alert])
                return "skipped"
            result = await self._post(alert)
            try:
                outcome = await self._record(alert, result)
            except Exception as error:  # noqa: BLE001 - one alert's failure must not stop the batch
                log.error(
                    "alert attempt not recorded; it goes out again after its claim lapses",
                    alert_id=alert.id,
                    endpoint=self._endpoint.name,
                    error=type(error).__name__,
                )
                return "unrecorded"
            if self._on_attempt and (result.status_code is not None or result.error is not None):
                self._on_attempt(outcome, result.duration_ms)
            return outcome

    async def _post(self, alert: PendingAlert) -> PostResult:
        """POST the alert; anything that goes wrong on the way, in rendering too, is a failed
        attempt that follows the retry schedule (to ``dead`` in the end), never an exception
        that would leave the alert claimed and unrecorded forever."""
        try:
            return await post_alert(
                self._session,
                self._endpoint,
                alert.id,
                render_payload(alert),
                now=self._clock(),
                timeout_seconds=self._settings.timeout_seconds,
            )
        except Exception as error:  # noqa: BLE001 - a poison alert is recorded, not raised
            return PostResult(
                ok=False, status_code=None, error=delivery_error(error, self._endpoint.url)
            )

    async def _record(self, alert: PendingAlert, result: PostResult) -> str:
        now = self._clock()
        fields = {
            "alert_id": alert.id,
            "endpoint": self._endpoint.name,
            "status": result.status_code,
        }
        if result.ok:
            await self._store.record_attempt(
                alert,
                now=now,
                status_code=result.status_code,
                error=None,
                duration_ms=result.duration_ms,
                outcome="delivered",
            )
            log.info("alert delivered", **fields)
            return "delivered"
        if result.gone:
            self.gone = True
            reason = f"the receiver answered 410 Gone at {now.isoformat(timespec='seconds')}"
            await self._store.disable_endpoint(self._endpoint.name, reason, now)
            await self._store.record_attempt(
                alert,
                now=now,
                status_code=410,
                error=result.error,
                duration_ms=result.duration_ms,
                outcome="held",
            )
            log.error("endpoint disabled: the receiver says it is gone (410)", **fields)
            return "held"
        retry_at = next_attempt(
            alert.attempts + 1,
            self._settings.retry_seconds,
            now,
            retry_after=retry_after_seconds(result.retry_after, now),
            rng=self._rng,
        )
        await self._store.record_attempt(
            alert,
            now=now,
            status_code=result.status_code,
            error=result.error,
            duration_ms=result.duration_ms,
            outcome="dead" if retry_at is None else "retry",
            next_attempt_at=retry_at,
        )
        log.warning(
            "alert delivery failed",
            **fields,
            error=result.error,
            retry_at=retry_at.isoformat() if retry_at else None,
            dead=retry_at is None,
        )
        return "dead" if retry_at is None else "retry"
