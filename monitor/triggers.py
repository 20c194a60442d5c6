"""Time-driven work: schedules written in configuration (``daily HH:MM``, ``hourly``,
``cron …``) as APScheduler triggers, and leases renewed while slow work runs."""

from __future__ import annotations

import asyncio
import re
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager, suppress
from zoneinfo import ZoneInfo

import structlog
from apscheduler.triggers.cron import CronTrigger

log = structlog.get_logger(__name__)

_DAILY = re.compile(r"^daily (\d{1,2}):(\d{2})$")


def schedule_trigger(schedule: str, timezone: str) -> CronTrigger:
    """The APScheduler trigger for a schedule: ``daily HH:MM``, ``hourly``, or
    ``cron MIN HOUR DAY MONTH WEEKDAY``, in ``timezone``."""
    zone = ZoneInfo(timezone)
    if schedule == "hourly":
        return CronTrigger(minute=0, timezone=zone)
    if daily := _DAILY.match(schedule):
        return CronTrigger(hour=int(daily[1]), minute=int(daily[2]), timezone=zone)
    if schedule.startswith("cron "):
        return CronTrigger.from_crontab(schedule.removeprefix("cron "), timezone=zone)
    raise ValueError("expected 'daily HH:MM', 'hourly' or 'cron MIN HOUR DAY MONTH WEEKDAY'")


@asynccontextmanager
async def renewing(
    every_seconds: float, renew: Callable[[], Awaitable[object]]
) -> AsyncIterator[None]:
    """Call ``renew`` every ``every_seconds`` while the body runs: how a lease outlives slow
    work. A renewal that fails is logged and tried again at the next turn; the body goes on."""

    async def loop() -> None:
        while True:
            await asyncio.sleep(every_seconds)
            try:
                await renew()
            except Exception as error:  # noqa: BLE001 - the work goes on; the lease may lapse
                log.warning("lease renewal failed", error=type(error).__name__)

    task = asyncio.create_task(loop())
    try:
        yield
    finally:
        task.cancel()
        with suppress(asyncio.CancelledError):
            await task
