"""Storage: feeds, articles, matches and the alert outbox, over one SQLAlchemy async engine.

The same code serves SQLite and PostgreSQL; unique constraints, not in-memory checks, decide what
is new, so a crash or a second worker can never store an article or its alert twice.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable, Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import func, or_, select

from monitor.feed_store import FeedStatus, FeedStore
from monitor.outbox import AlertStatus, OutboxStore
from monitor.records import NewArticle, TopicMatch
from monitor.status_store import StatusStore
from monitor.tables import AlertRow, ArticleRow, MatchRow

__all__ = ["AlertPayloadBuilder", "AlertStatus", "FeedStatus", "Store"]

Recipients = Callable[[str], Sequence[str]]

AlertPayloadBuilder = Callable[[str, TopicMatch], dict[str, Any]]


class Store(FeedStore, OutboxStore, StatusStore):
    """Typed operations on the database; every method is one short transaction."""

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
        recipients: Recipients,
        payload: AlertPayloadBuilder,
        now: datetime,
    ) -> int | None:
        """Store ``article``, its matches and one pending alert per alert-level match and
        endpoint that takes its topic (``recipients(topic)`` names them).

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
                for endpoint in recipients(match.topic):
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
