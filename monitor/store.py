"""Storage: feeds, articles, matches and the alert outbox, over one SQLAlchemy async engine.

The same code serves SQLite and PostgreSQL; unique constraints, not in-memory checks, decide what
is new, so a crash or a second worker can never store an article or its alert twice.
"""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import AsyncIterator, Callable, Sequence
from contextlib import asynccontextmanager
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import delete, func, or_, select, update
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker

from monitor.records import Feed, NewArticle, PendingAlert, TopicMatch
from monitor.tables import AlertRow, ArticleRow, FeedRow, MatchRow

AlertPayloadBuilder = Callable[[str, TopicMatch], dict[str, Any]]


@dataclass(frozen=True, slots=True)
class FeedStatus:
    """A feed as an operator sees it in ``monitor feeds list``."""

    url: str
    name: str | None
    title: str
    origin: str
    enabled: bool
    next_check_at: datetime
    last_success_at: datetime | None
    error_count: int
    last_error: str | None


@dataclass(frozen=True, slots=True)
class AlertStatus:
    """An alert as an operator sees it in ``monitor alerts list``."""

    id: str
    topic: str
    endpoint: str
    status: str
    attempts: int
    title: str
    url: str
    created_at: datetime
    next_attempt_at: datetime
    last_error: str | None


class Store:
    """Typed operations on the database; every method is one short transaction."""

    def __init__(self, engine: AsyncEngine) -> None:
        self._engine = engine
        self._sessions = async_sessionmaker(engine, expire_on_commit=False)
        # SQLite has one writer at a time; queueing writers here instead of in SQLite's busy
        # handler (which sleeps and polls) keeps concurrent feed checks from stalling.
        self._one_writer = asyncio.Lock() if engine.dialect.name == "sqlite" else None

    @asynccontextmanager
    async def _writing(self) -> AsyncIterator[AsyncSession]:
        """A session in a transaction that commits on success and rolls back on error."""
        if self._one_writer is None:
            async with self._sessions.begin() as session:
                yield session
            return
        async with self._one_writer, self._sessions.begin() as session:
            yield session

    def _insert(self, table: Any) -> postgresql.Insert | sqlite.Insert:
        """INSERT with ``on_conflict_do_nothing``, which each dialect spells in its own module."""
        if self._engine.dialect.name == "postgresql":
            return postgresql.insert(table)
        return sqlite.insert(table)

    # Feeds

    async def sync_config_feeds(
        self, feeds: Sequence[tuple[str, str | None]], now: datetime
    ) -> None:
        """Make the config's feeds present and enabled; disable config feeds no longer listed.

        Feeds added with ``monitor feeds add`` are left alone.
        """
        urls = [url for url, _ in feeds]
        async with self._writing() as session:
            for url, name in feeds:
                await session.execute(
                    self._insert(FeedRow)
                    .values(
                        url=url,
                        name=name,
                        title="",
                        origin="config",
                        enabled=True,
                        next_check_at=now,
                        error_count=0,
                        created_at=now,
                    )
                    .on_conflict_do_nothing()
                )
                await session.execute(
                    update(FeedRow)
                    .where(FeedRow.url == url, FeedRow.origin == "config")
                    .values(name=name, enabled=True)
                )
            await session.execute(
                update(FeedRow)
                .where(FeedRow.origin == "config", FeedRow.url.not_in(urls))
                .values(enabled=False)
            )

    async def add_feed(self, url: str, name: str | None, now: datetime) -> bool:
        """Add a feed by hand; False if it was already there (it is then re-enabled)."""
        async with self._writing() as session:
            added = await session.execute(
                self._insert(FeedRow)
                .values(
                    url=url,
                    name=name,
                    title="",
                    origin="cli",
                    enabled=True,
                    next_check_at=now,
                    error_count=0,
                    created_at=now,
                )
                .on_conflict_do_nothing()
                .returning(FeedRow.id)
            )
            if added.first() is not None:
                return True
            await session.execute(update(FeedRow).where(FeedRow.url == url).values(enabled=True))
            return False

    async def remove_feed(self, url: str) -> bool:
        """Delete a feed; its stored articles stay, so their stories never alert again."""
        async with self._writing() as session:
            removed = await session.execute(
                delete(FeedRow).where(FeedRow.url == url).returning(FeedRow.id)
            )
            return removed.first() is not None

    async def feeds_to_poll(self, now: datetime | None, limit: int = 1000) -> list[Feed]:
        """Enabled feeds due at ``now`` (all enabled feeds when ``now`` is None), oldest first."""
        query = select(FeedRow).where(FeedRow.enabled.is_(True))
        if now is not None:
            query = query.where(FeedRow.next_check_at <= now)
        query = query.order_by(FeedRow.next_check_at, FeedRow.id).limit(limit)
        async with self._sessions() as session:
            rows = (await session.scalars(query)).all()
        return [
            Feed(
                id=row.id,
                url=row.url,
                title=row.title or row.name or "",
                etag=row.etag,
                last_modified=row.last_modified,
                body_hash=row.body_hash,
                error_count=row.error_count,
            )
            for row in rows
        ]

    async def record_feed_success(
        self,
        feed_id: int,
        *,
        now: datetime,
        next_check_at: datetime,
        title: str | None,
        etag: str | None,
        last_modified: str | None,
        body_hash: str | None,
    ) -> None:
        """Remember a successful check: validators for the next conditional GET, the schedule."""
        values: dict[str, Any] = {
            "etag": etag,
            "last_modified": last_modified,
            "body_hash": body_hash,
            "last_checked_at": now,
            "last_success_at": now,
            "next_check_at": next_check_at,
            "error_count": 0,
            "last_error": None,
        }
        if title:
            values["title"] = title
        async with self._writing() as session:
            await session.execute(update(FeedRow).where(FeedRow.id == feed_id).values(values))

    async def record_feed_failure(
        self, feed_id: int, *, now: datetime, next_check_at: datetime, error: str
    ) -> None:
        """Remember a failed check and when to try again."""
        async with self._writing() as session:
            await session.execute(
                update(FeedRow)
                .where(FeedRow.id == feed_id)
                .values(
                    last_checked_at=now,
                    next_check_at=next_check_at,
                    last_error=error,
                    error_count=FeedRow.error_count + 1,
                )
            )

    async def list_feeds(self) -> list[FeedStatus]:
        async with self._sessions() as session:
            rows = (await session.scalars(select(FeedRow).order_by(FeedRow.id))).all()
        return [
            FeedStatus(
                url=row.url,
                name=row.name,
                title=row.title,
                origin=row.origin,
                enabled=row.enabled,
                next_check_at=row.next_check_at,
                last_success_at=row.last_success_at,
                error_count=row.error_count,
                last_error=row.last_error,
            )
            for row in rows
        ]

    # Articles

    async def is_known(self, feed_id: int, guid: str, canonical_url: str) -> bool:
        """Whether an entry is already stored, by this feed's GUID or by its canonical URL."""
        query = (
            select(ArticleRow.id)
            .where(
                or_(
                    ArticleRow.canonical_url == canonical_url,
                    (ArticleRow.feed_id == feed_id) & (ArticleRow.guid == guid),
                )
            )
            .limit(1)
        )
        async with self._sessions() as session:
            return (await session.scalar(query)) is not None

    async def save_article(
        self,
        article: NewArticle,
        endpoints: Sequence[str],
        payload: AlertPayloadBuilder,
        now: datetime,
    ) -> int | None:
        """Store ``article``, its matches and one pending alert per (alert-level match, endpoint).

        All in one transaction, and only if the article is new: returns the number of alerts
        created, or None when a unique constraint says the article was already stored.
        """
        async with self._writing() as session:
            inserted = await session.execute(
                self._insert(ArticleRow)
                .values(
                    feed_id=article.feed_id,
                    guid=article.guid,
                    url=article.url,
                    canonical_url=article.canonical_url,
                    title=article.title,
                    summary=article.summary,
                    text=article.text,
                    language=article.language,
                    published_at=article.published_at,
                    created_at=now,
                )
                .on_conflict_do_nothing()
                .returning(ArticleRow.id)
            )
            article_id = inserted.scalar()
            if article_id is None:
                return None
            alerts = 0
            for match in article.matches:
                session.add(
                    MatchRow(
                        article_id=article_id,
                        topic=match.topic,
                        level=match.level or "digest",
                        score=match.score,
                        terms=list(match.terms),
                        rules=list(match.rules),
                        created_at=now,
                    )
                )
                if match.level != "alert":
                    continue  # digest-level matches are stored for the digest, not pinged
                for endpoint in endpoints:
                    alert_id = str(uuid.uuid4())
                    session.add(
                        AlertRow(
                            id=alert_id,
                            article_id=article_id,
                            topic=match.topic,
                            endpoint=endpoint,
                            status="pending",
                            payload=payload(alert_id, match),
                            attempts=0,
                            next_attempt_at=now,
                            created_at=now,
                        )
                    )
                    alerts += 1
            return alerts

    async def match_levels(self, canonical_url: str) -> list[tuple[str, list[str]]]:
        """The level and the fired rules of each topic an article matched."""
        query = (
            select(MatchRow.level, MatchRow.rules)
            .join(ArticleRow, ArticleRow.id == MatchRow.article_id)
            .where(ArticleRow.canonical_url == canonical_url)
            .order_by(MatchRow.topic)
        )
        async with self._sessions() as session:
            return [(level, rules) for level, rules in (await session.execute(query)).all()]

    async def count_articles(self) -> int:
        async with self._sessions() as session:
            return int(await session.scalar(select(func.count(ArticleRow.id))) or 0)

    # Alerts

    async def due_alerts(self, now: datetime, endpoint: str, limit: int) -> list[PendingAlert]:
        """Pending alerts for ``endpoint`` whose next attempt is due, oldest first."""
        query = (
            select(AlertRow)
            .where(
                AlertRow.status == "pending",
                AlertRow.endpoint == endpoint,
                AlertRow.next_attempt_at <= now,
            )
            .order_by(AlertRow.next_attempt_at, AlertRow.created_at)
            .limit(limit)
        )
        async with self._sessions() as session:
            rows = (await session.scalars(query)).all()
        return [
            PendingAlert(
                id=row.id, endpoint=row.endpoint, payload=row.payload, attempts=row.attempts
            )
            for row in rows
        ]

    async def mark_delivered(self, alert_id: str, *, status_code: int, now: datetime) -> None:
        async with self._writing() as session:
            await session.execute(
                update(AlertRow)
                .where(AlertRow.id == alert_id)
                .values(
                    status="delivered",
                    attempts=AlertRow.attempts + 1,
                    last_status_code=status_code,
                    last_error=None,
                    delivered_at=now,
                )
            )

    async def mark_failed(
        self,
        alert_id: str,
        *,
        error: str,
        status_code: int | None,
        next_attempt_at: datetime | None,
    ) -> None:
        """Record a failed attempt; with no next attempt the alert is ``dead`` (kept, visible)."""
        values: dict[str, Any] = {
            "attempts": AlertRow.attempts + 1,
            "last_error": error,
            "last_status_code": status_code,
        }
        if next_attempt_at is None:
            values["status"] = "dead"
        else:
            values["next_attempt_at"] = next_attempt_at
        async with self._writing() as session:
            await session.execute(update(AlertRow).where(AlertRow.id == alert_id).values(values))

    async def list_alerts(self, status: str | None = None, limit: int = 50) -> list[AlertStatus]:
        query = (
            select(AlertRow, ArticleRow.title, ArticleRow.url)
            .join(ArticleRow, ArticleRow.id == AlertRow.article_id)
            .order_by(AlertRow.created_at.desc(), AlertRow.id)
            .limit(limit)
        )
        if status is not None:
            query = query.where(AlertRow.status == status)
        async with self._sessions() as session:
            rows = (await session.execute(query)).all()
        return [
            AlertStatus(
                id=alert.id,
                topic=alert.topic,
                endpoint=alert.endpoint,
                status=alert.status,
                attempts=alert.attempts,
                title=title,
                url=url,
                created_at=alert.created_at,
                next_attempt_at=alert.next_attempt_at,
                last_error=alert.last_error,
            )
            for alert, title, url in rows
        ]
