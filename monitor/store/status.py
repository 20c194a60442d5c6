"""What the health and metrics endpoints ask the database: is it there, and how do things
stand."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import case, func, or_, select, text, update

from monitor.store.base import Repository
from monitor.store.tables import AlertRow, ArticleRow, FeedRow, MatchRow


@dataclass(frozen=True, slots=True)
class Snapshot:
    """Counts for the gauges of ``/metrics``."""

    feeds: dict[str, int]
    articles: int
    matches: dict[tuple[str, str], int]
    alerts: dict[str, int]
    pending_due: int


class StatusRepository(Repository):
    """How things stand, for health checks and metrics, and the recovery of a sole user."""

    async def ping(self) -> None:
        """Raise unless the database answers."""
        async with self._db.sessions() as session:
            await session.execute(text("SELECT 1"))

    async def snapshot(self, now: datetime) -> Snapshot:
        feed_status = case(
            (FeedRow.disabled_reason.is_not(None), "stopped"),
            (FeedRow.enabled.is_(False), "disabled"),
            (FeedRow.error_count > 0, "failing"),
            else_="ok",
        )
        async with self._db.sessions() as session:
            feeds = (
                await session.execute(
                    select(feed_status, func.count(FeedRow.id)).group_by(feed_status)
                )
            ).all()
            articles = await session.scalar(select(func.count(ArticleRow.id)))
            matches = (
                await session.execute(
                    select(MatchRow.topic, MatchRow.level, func.count(MatchRow.id)).group_by(
                        MatchRow.topic, MatchRow.level
                    )
                )
            ).all()
            alerts = (
                await session.execute(
                    select(AlertRow.status, func.count(AlertRow.id)).group_by(AlertRow.status)
                )
            ).all()
            due = await session.scalar(
                select(func.count(AlertRow.id)).where(
                    AlertRow.status == "pending",
                    AlertRow.next_attempt_at <= now,
                    or_(AlertRow.claimed_until.is_(None), AlertRow.claimed_until <= now),
                )
            )
        return Snapshot(
            feeds={str(status): int(count) for status, count in feeds},
            articles=int(articles or 0),
            matches={(str(t), str(level)): int(n) for t, level, n in matches},
            alerts={str(status): int(count) for status, count in alerts},
            pending_due=int(due or 0),
        )

    async def release_all_claims(self) -> None:
        """End every feed lease and alert claim. Only for a process that knows it is the
        database's one user (SQLite, under its file lock): a claim left by a killed
        predecessor is then stale, and waiting for it to expire would only delay work."""
        async with self._db.writing() as session:
            await session.execute(
                update(FeedRow).where(FeedRow.leased_until.is_not(None)).values(leased_until=None)
            )
            await session.execute(
                update(AlertRow)
                .where(AlertRow.claimed_until.is_not(None))
                .values(claimed_until=None, claim_token=None)
            )
