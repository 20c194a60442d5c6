"""Schedules written in configuration (``daily HH:MM``, ``hourly``, ``cron …``) as APScheduler
triggers: when digests go out and when retention runs."""

from __future__ import annotations

import re
from zoneinfo import ZoneInfo

from apscheduler.triggers.cron import CronTrigger

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
