"""Retention: what a daily job prunes so the database stays the size of the news that matters.

Articles themselves stay (their URLs and GUIDs are how a story is known), so a pruned story never
alerts again.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import delete, select, update

from monitor.store.base import Repository
from monitor.store.tables import AlertRow, ArticleRow, AttemptRow, StoryKeyRow


@dataclass(frozen=True, slots=True)
class Pruned:
    """What a retention pass removed."""

    article_texts: int
    alerts: int


class RetentionRepository(Repository):
    """Pruning of old article texts, delivered alerts and story lookup keys."""

    async def prune(
        self, *, text_before: datetime | None, alerts_before: datetime | None
    ) -> Pruned:
        """Empty the text of articles stored before ``text_before`` and delete delivered
        alerts created before ``alerts_before`` (with their attempts). None skips either."""
        texts = alerts = 0
        async with self._db.writing() as session:
            if text_before is not None:
                result = await session.execute(
                    update(ArticleRow)
                    .where(ArticleRow.created_at < text_before, ArticleRow.text != "")
                    .values(text="")
                    .returning(ArticleRow.id)
                )
                texts = len(result.all())
            if alerts_before is not None:
                old = select(AlertRow.id).where(
                    AlertRow.status == "delivered", AlertRow.created_at < alerts_before
                )
                await session.execute(delete(AttemptRow).where(AttemptRow.alert_id.in_(old)))
                result = await session.execute(
                    delete(AlertRow)
                    .where(AlertRow.status == "delivered", AlertRow.created_at < alerts_before)
                    .returning(AlertRow.id)
                )
                alerts = len(result.all())
        return Pruned(article_texts=texts, alerts=alerts)

    async def forget_story_keys(self, before: datetime) -> int:
        """Drop the lookup keys of articles published before ``before``: no new article can
        be grouped with them any more (they are outside every window that matters), and the
        index stays the size of a few days of news. Fingerprints and decisions stay."""
        async with self._db.writing() as session:
            result = await session.execute(
                delete(StoryKeyRow).where(StoryKeyRow.at < before).returning(StoryKeyRow.key)
            )
            return len(result.all())
