"""The daemon's scheduled jobs: poll due feeds, deliver due alerts, queue digests.

Each job counts itself in flight, so a shutdown can wait for running work to finish, and logs
its own failure instead of raising: a database that went away is retried at the next tick.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import replace
from datetime import datetime, timedelta
from typing import TYPE_CHECKING

import structlog

from monitor.app.pipeline import PipelineContext, poll_feeds
from monitor.deliver.sender import DeliveryReport, deliver_due
from monitor.deliver.webhook import Endpoint
from monitor.service.feedback import compile_topics_from
from monitor.store.retention import Pruned
from monitor.triggers import renewing

if TYPE_CHECKING:  # `monitor once` delivers through this module, without a scheduler or server
    from apscheduler.schedulers.asyncio import AsyncIOScheduler

    from monitor.app.http_server import Liveness

log = structlog.get_logger(__name__)

DELIVER_JOB = "deliver"


async def deliver_pending(context: PipelineContext) -> DeliveryReport:
    """One delivery pass over every configured endpoint."""
    return await deliver_due(
        context.store,
        context.webhooks,
        context.endpoints,
        context.settings.delivery,
        context.clock,
        context.rng,
        context.metrics.record_delivery,
    )


async def queue_digest(context: PipelineContext, endpoint: Endpoint) -> str | None:
    """Put the endpoint's digest-level stories since its last digest into the outbox; None if
    there were none, or the endpoint takes no digest (its ``min_level`` is ``alert``)."""
    if not endpoint.takes_digest:
        return None
    return await context.store.queue_digest(endpoint.name, sorted(endpoint.topics), context.clock())


async def prune_old(context: PipelineContext) -> Pruned:
    """One retention pass, by the ages ``[retention]`` sets."""
    retention, now = context.settings.retention, context.clock()

    def cutoff(days: int) -> datetime | None:
        return now - timedelta(days=days) if days else None

    # Articles published a day beyond two windows ago can join no story of a new article.
    stories_window = timedelta(hours=2 * context.settings.stories.window_hours + 24)
    await context.store.forget_story_keys(before=now - stories_window)
    return await context.store.prune(
        text_before=cutoff(retention.article_text_days),
        alerts_before=cutoff(retention.delivered_alert_days),
    )


class Worker:
    """The scheduler's jobs, with a count of work in flight so shutdown can wait for it."""

    def __init__(
        self, context: PipelineContext, scheduler: AsyncIOScheduler, liveness: Liveness
    ) -> None:
        self._context = context
        self._scheduler = scheduler
        self._liveness = liveness
        self._running = 0
        self._idle = asyncio.Event()
        self._idle.set()
        self._claimed: list[int] = []  # feeds of the poll in flight
        self._delivering = False
        self._deliver_again = False
        self._feedback_version: tuple[int, int] | None = None
        self.stopping = False

    @property
    def context(self) -> PipelineContext:
        """The pipeline's collaborators, with the topics as last compiled."""
        return self._context

    async def refresh_topics(self) -> None:
        """Recompile the topics when an operator's stored feedback has changed since the last
        look (one count-and-max query per tick); on failure keep the topics as they are."""
        store = self._context.store
        try:
            version = await store.feedback.version()
            if version == self._feedback_version:
                return
            topics = await compile_topics_from(store, self._context.settings)
        except Exception:
            log.exception("could not read the topic feedback; the topics stay as they were")
            return
        if self._feedback_version is not None:
            log.info("topics recompiled with new feedback", feedback_entries=version[0])
        self._context = replace(self._context, topics=topics)
        self._feedback_version = version

    async def poll_due(self) -> None:
        if self.stopping:
            return
        async with self._job("poll tick failed"):
            await self.refresh_topics()
            feeds = await self._context.store.feeds_to_poll(
                self._context.clock(), lease_seconds=self._context.settings.poll.lease_seconds
            )
            if not feeds:
                self._ticked()
                return
            self._claimed = [feed.id for feed in feeds]
            lease = self._context.settings.poll.lease_seconds

            async def renew() -> None:
                until = self._context.clock() + timedelta(seconds=lease)
                await self._context.store.extend_feed_leases(self._claimed, until)

            async with renewing(lease / 3, renew):
                report = await poll_feeds(self._context, feeds)
            self._claimed = []
            self._ticked()
            log.info(
                "poll finished",
                feeds=report.feeds,
                failed=report.failed,
                new_articles=report.new_articles,
                matches=report.matches,
                alerts=report.alerts,
            )
            if report.alerts:
                self.deliver_soon()

    async def deliver(self) -> None:
        if self.stopping:
            return
        async with self._job("delivery tick failed"):
            self._delivering = True
            try:
                while True:
                    self._deliver_again = False
                    await deliver_pending(self._context)
                    if not self._deliver_again or self.stopping:
                        break
            finally:
                self._delivering = False

    async def digest(self, endpoint: Endpoint) -> None:
        if self.stopping:
            return
        async with self._job("digest failed"):
            digest_id = await queue_digest(self._context, endpoint)
            if digest_id is None:
                log.info("digest: nothing new", endpoint=endpoint.name)
                return
            log.info("digest queued", endpoint=endpoint.name, alert_id=digest_id)
            self.deliver_soon()

    async def prune(self) -> None:
        if self.stopping:
            return
        async with self._job("retention pass failed"):
            pruned = await prune_old(self._context)
            log.info("retention pass", article_texts=pruned.article_texts, alerts=pruned.alerts)

    def _ticked(self) -> None:
        now = self._context.clock()
        self._liveness.last_poll_at = now
        self._context.metrics.last_poll.set(now.timestamp())

    def deliver_soon(self) -> None:
        """Run the delivery job now instead of at its next tick.

        A pass already running may have claimed its batch before the new alerts were
        committed, and the scheduler skips a run that would overlap it (``max_instances=1``),
        so that pass is asked to go round once more instead of leaving them a whole tick.
        """
        if self._delivering:
            self._deliver_again = True
            return
        self._scheduler.modify_job(DELIVER_JOB, next_run_time=self._context.clock())

    async def release_claims(self) -> None:
        """Hand back the feeds of an unfinished poll, so the next start (or another replica)
        checks them at once rather than after their lease."""
        if self._claimed:
            await self._context.store.release_feeds(self._claimed)
            self._claimed = []

    async def wait_idle(self, grace_seconds: float) -> bool:
        """Wait for jobs in flight to finish; False if some were still running at the deadline."""
        try:
            await asyncio.wait_for(self._idle.wait(), grace_seconds)
        except TimeoutError:
            return False
        return True

    @asynccontextmanager
    async def _job(self, failure: str) -> AsyncIterator[None]:
        self._running += 1
        self._idle.clear()
        try:
            yield
        except Exception:
            log.exception(failure)
        finally:
            self._running -= 1
            if self._running == 0:
                self._idle.set()
