"""The long-running daemon: APScheduler ticks that poll due feeds and deliver due alerts, and
a cron job per endpoint that takes digests.

The database holds each feed's next check, each alert's next attempt and each endpoint's last
digest, so the scheduler only runs short periodic jobs and a restart loses nothing.
"""

from __future__ import annotations

import asyncio
import gc
import signal
from datetime import UTC, timedelta

import structlog
from aiohttp import web
from apscheduler.schedulers.asyncio import AsyncIOScheduler

from monitor.app.http_server import Liveness, ServerParts, build_app, start_server
from monitor.app.jobs import DELIVER_JOB, Worker
from monitor.app.pipeline import PipelineContext
from monitor.app.resources import open_pipeline
from monitor.settings import Settings
from monitor.store.single_process import sole_sqlite_user
from monitor.text.redact import redact_url
from monitor.triggers import schedule_trigger

log = structlog.get_logger(__name__)

SHUTDOWN_GRACE_SECONDS = 8.0


class StartupError(Exception):
    """The daemon cannot start; the message says why."""


def freeze_start_up_heap() -> None:
    """Set the objects made while starting (modules, settings, templates, the topics' term
    indexes) apart from the garbage collector for the life of the process.

    They live until the process ends, but a full collection walks every one of them: with some
    160,000 of them it stalled a request 100 ms or more every few large answers (an OPML export
    of 10,000 feeds allocates enough to set one off). Collected first, so that start-up's garbage
    is not kept."""
    gc.collect()
    gc.freeze()


async def _serve_http(
    settings: Settings, context: PipelineContext, liveness: Liveness
) -> web.AppRunner | None:
    """Start /healthz, /readyz and /metrics, unless ``[http] enabled = false``."""
    if not settings.http.enabled:
        return None
    host, port = settings.http_address()
    # Not ready once three poll ticks have gone by without one finishing (at least a minute).
    stale_after = timedelta(seconds=max(3 * settings.poll.tick_seconds, 60))
    app = build_app(
        ServerParts(context.store, context.metrics, liveness, context.clock, stale_after, settings)
    )
    try:
        runner, bound = await start_server(app, host, port)
    except OSError as error:
        raise StartupError(f"the HTTP server cannot listen on {host}:{port}: {error}") from None
    log.info("http server listening", host=host, port=bound)
    return runner


def _schedule_jobs(scheduler: AsyncIOScheduler, worker: Worker, context: PipelineContext) -> None:
    """The periodic poll and delivery ticks, and a digest job per endpoint that takes one."""
    settings, now = context.settings, context.clock()
    for job, job_id, seconds in (
        (worker.poll_due, "poll", settings.poll.tick_seconds),
        (worker.deliver, DELIVER_JOB, settings.delivery.tick_seconds),
    ):
        scheduler.add_job(
            job,
            "interval",
            id=job_id,
            next_run_time=now,
            seconds=seconds,
            max_instances=1,
            coalesce=True,
        )
    scheduler.add_job(
        worker.prune,
        schedule_trigger(settings.retention.run_at, "UTC"),
        id="retention",
        max_instances=1,
        coalesce=True,
        misfire_grace_time=6 * 3600,
    )
    for endpoint in context.endpoints:
        if endpoint.takes_digest:
            scheduler.add_job(
                worker.digest,
                schedule_trigger(endpoint.digest, endpoint.timezone),
                args=[endpoint],
                id=f"digest:{endpoint.name}",
                max_instances=1,
                coalesce=True,
                misfire_grace_time=3600,
            )


async def run_daemon(settings: Settings, stop: asyncio.Event | None = None) -> None:
    """Run until SIGTERM/SIGINT (or ``stop``): stop taking new work, give work in flight a
    grace period to finish, then close the HTTP server, the HTTP clients and the database."""
    stop = stop or asyncio.Event()
    loop = asyncio.get_running_loop()
    for signum in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(signum, stop.set)
    try:
        with sole_sqlite_user(settings.database_url):
            async with open_pipeline(settings) as context:
                if not context.store.is_postgresql:
                    await context.store.release_all_claims()  # a killed predecessor's
                scheduler = AsyncIOScheduler(timezone=UTC, event_loop=loop)
                liveness = Liveness()
                worker = Worker(context, scheduler, liveness)
                _schedule_jobs(scheduler, worker, context)
                runner = await _serve_http(settings, context, liveness)
                freeze_start_up_heap()
                scheduler.start()
                liveness.scheduler_running = True
                log.info(
                    "monitor started",
                    database=redact_url(settings.database_url),
                    feeds=len(settings.feeds),
                    topics=[t.name for t in settings.topics],
                )
                await stop.wait()
                log.info("stopping: letting work in flight finish")
                worker.stopping = True
                liveness.scheduler_running = False
                scheduler.pause()
                finished = await worker.wait_idle(SHUTDOWN_GRACE_SECONDS)
                scheduler.shutdown(wait=False)
                if runner is not None:
                    await runner.cleanup()
                if not finished:
                    await worker.release_claims()
                    log.warning("stopped with work in flight; it resumes at the next start")
    finally:
        for signum in (signal.SIGTERM, signal.SIGINT):
            loop.remove_signal_handler(signum)
    log.info("monitor stopped")
