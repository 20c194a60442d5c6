"""The long-running daemon: APScheduler ticks that poll due feeds and deliver due alerts.

The database holds each feed's next check and each alert's next attempt, so the scheduler only
runs two short periodic jobs and a restart loses nothing.
"""

from __future__ import annotations

import asyncio
import signal
from dataclasses import dataclass
from datetime import UTC

import structlog
from apscheduler.schedulers.asyncio import AsyncIOScheduler

from monitor.database import redacted
from monitor.delivery import DeliveryReport, deliver_due
from monitor.pipeline import CycleReport, PipelineContext, poll_feeds
from monitor.runtime import open_pipeline
from monitor.settings import Settings

log = structlog.get_logger(__name__)

SHUTDOWN_GRACE_SECONDS = 8.0


@dataclass(frozen=True, slots=True)
class OnceReport:
    """The outcome of ``monitor once``."""

    cycle: CycleReport
    delivery: DeliveryReport

    def line(self) -> str:
        return (
            f"feeds polled: {self.cycle.feeds} ({self.cycle.failed} failed), "
            f"new articles: {self.cycle.new_articles}, matches: {self.cycle.matches}, "
            f"alerts sent: {self.delivery.sent}, failed: {self.delivery.failed}"
            + (f", waiting for a webhook: {self.delivery.waiting}" if self.delivery.waiting else "")
        )


async def run_once(settings: Settings) -> OnceReport:
    """Poll every enabled feed, due or not, then deliver the pending alerts."""
    async with open_pipeline(settings) as context:
        feeds = await context.store.feeds_to_poll(None)
        cycle = await poll_feeds(context, feeds)
        delivery = await deliver_due(
            context.store, context.webhooks, context.endpoints, settings.delivery, context.clock
        )
    return OnceReport(cycle=cycle, delivery=delivery)


class Worker:
    """The scheduler's jobs, with a count of work in flight so shutdown can wait for it."""

    def __init__(self, context: PipelineContext, scheduler: AsyncIOScheduler) -> None:
        self._context = context
        self._scheduler = scheduler
        self._running = 0
        self._idle = asyncio.Event()
        self._idle.set()
        self.stopping = False

    async def poll_due(self) -> None:
        if self.stopping:
            return
        async with self._busy():
            try:
                feeds = await self._context.store.feeds_to_poll(self._context.clock())
                if not feeds:
                    return
                report = await poll_feeds(self._context, feeds)
            except Exception:
                log.exception("poll tick failed")
                return
            log.info(
                "poll finished",
                feeds=report.feeds,
                failed=report.failed,
                new_articles=report.new_articles,
                matches=report.matches,
                alerts=report.alerts,
            )
            if report.alerts:
                self._scheduler.modify_job("deliver", next_run_time=self._context.clock())

    async def deliver(self) -> None:
        if self.stopping:
            return
        async with self._busy():
            try:
                await deliver_due(
                    self._context.store,
                    self._context.webhooks,
                    self._context.endpoints,
                    self._context.settings.delivery,
                    self._context.clock,
                )
            except Exception:
                log.exception("delivery tick failed")

    async def wait_idle(self, grace_seconds: float) -> bool:
        """Wait for jobs in flight to finish; False if some were still running at the deadline."""
        try:
            await asyncio.wait_for(self._idle.wait(), grace_seconds)
        except TimeoutError:
            return False
        return True

    def _busy(self) -> _Busy:
        return _Busy(self)


class _Busy:
    def __init__(self, worker: Worker) -> None:
        self._worker = worker

    async def __aenter__(self) -> None:
        self._worker._running += 1
        self._worker._idle.clear()

    async def __aexit__(self, *_: object) -> None:
        self._worker._running -= 1
        if self._worker._running == 0:
            self._worker._idle.set()


async def run_daemon(settings: Settings, stop: asyncio.Event | None = None) -> None:
    """Run until SIGTERM/SIGINT (or ``stop``): work in flight gets a grace period to finish."""
    stop = stop or asyncio.Event()
    loop = asyncio.get_running_loop()
    for signum in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(signum, stop.set)
    try:
        async with open_pipeline(settings) as context:
            scheduler = AsyncIOScheduler(timezone=UTC, event_loop=loop)
            worker = Worker(context, scheduler)
            now = context.clock()
            scheduler.add_job(
                worker.poll_due,
                "interval",
                id="poll",
                next_run_time=now,
                seconds=settings.poll.tick_seconds,
                max_instances=1,
                coalesce=True,
            )
            scheduler.add_job(
                worker.deliver,
                "interval",
                id="deliver",
                next_run_time=now,
                seconds=settings.delivery.tick_seconds,
                max_instances=1,
                coalesce=True,
            )
            scheduler.start()
            log.info(
                "monitor started",
                database=redacted(settings.database_url),
                feeds=len(settings.feeds),
                topics=[t.name for t in settings.topics],
            )
            await stop.wait()
            log.info("stopping: letting work in flight finish")
            worker.stopping = True
            scheduler.pause()
            finished = await worker.wait_idle(SHUTDOWN_GRACE_SECONDS)
            scheduler.shutdown(wait=False)
            if not finished:
                log.warning("stopped with work in flight; it resumes at the next start")
    finally:
        for signum in (signal.SIGTERM, signal.SIGINT):
            loop.remove_signal_handler(signum)
    log.info("monitor stopped")
