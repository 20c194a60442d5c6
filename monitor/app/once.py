"""``monitor once``: every enabled feed polled once, then the pending alerts delivered.

Apart from the daemon, so that a one-off run loads neither the scheduler nor the HTTP server.
"""

from __future__ import annotations

from dataclasses import dataclass

from monitor.app.jobs import deliver_pending
from monitor.app.pipeline import CycleReport, poll_feeds
from monitor.app.resources import open_pipeline
from monitor.deliver.sender import DeliveryReport
from monitor.settings import Settings
from monitor.store.single_process import sole_sqlite_user


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
    with sole_sqlite_user(settings.database_url):
        async with open_pipeline(settings) as context:
            if not context.store.is_postgresql:
                await context.store.release_all_claims()  # a killed predecessor's
            feeds = await context.store.feeds_to_poll(None, limit=None)
            cycle = await poll_feeds(context, feeds)
            delivery = await deliver_pending(context)
    return OnceReport(cycle=cycle, delivery=delivery)
