"""Digests: the digest-level matches since an endpoint's last digest, one per story, queued as
one outbox row that names them (its payload is rendered from them when it is sent)."""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from datetime import datetime

from sqlalchemy import func, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from monitor.records import ARTICLE_MATCHED, DIGEST
from monitor.store.base import Repository
from monitor.store.tables import AlertRow, ArticleRow, EndpointRow, MatchRow


class DigestRepository(Repository):
    """Queues digests; one short transaction each."""

    async def queue_digest(self, endpoint: str, topics: Sequence[str], now: datetime) -> str | None:
        """Put the digest-level matches since the endpoint's last digest into one outbox row,
        moving the endpoint's mark past them in the same transaction: a digest is never
        queued twice and no match is skipped. Returns the row's id, or None if there was
        nothing to send."""
        async with self._db.writing() as session:
            # Locked, so two replicas at the same digest time make one digest, not two.
            state = await session.get(EndpointRow, endpoint, with_for_update=True)
            after = state.digest_after_match_id if state is not None else 0
            # Everything up to the newest match is considered now, whatever its topic, so the
            # mark can move past matches this endpoint does not take.
            upto = int(await session.scalar(select(func.max(MatchRow.id))) or 0)
            query = (
                select(MatchRow.id, MatchRow.topic, ArticleRow.id, ArticleRow.story_id)
                .join(ArticleRow, ArticleRow.id == MatchRow.article_id)
                .where(MatchRow.level == "digest", MatchRow.id > after, MatchRow.id <= upto)
                .order_by(MatchRow.id)
            )
            if topics:
                query = query.where(MatchRow.topic.in_(topics))
            rows = (await session.execute(query)).all()
            await session.execute(
                update(EndpointRow)
                .where(EndpointRow.name == endpoint)
                .values(last_digest_at=now, digest_after_match_id=max(after, upto))
            )
            alerted = await _alerted_stories(
                session, endpoint, {story for *_, story in rows if story is not None}
            )
            seen: set[tuple[str, int, bool]] = set()
            chosen: list[tuple[int, str]] = []
            for match_id, topic, article_id, story_id in rows:
                key = (topic, article_id, False) if story_id is None else (topic, story_id, True)
                if key in seen or story_id in alerted:
                    continue
                seen.add(key)
                chosen.append((match_id, topic))
            if not chosen:
                return None
            digest_id = str(uuid.uuid4())
            session.add(
                AlertRow(
                    id=digest_id,
                    kind=DIGEST,
                    article_id=None,
                    topic=",".join(sorted({topic for _, topic in chosen})),
                    endpoint=endpoint,
                    status="pending",
                    digest_match_ids=[match_id for match_id, _ in chosen],
                    attempts=0,
                    next_attempt_at=now,
                    created_at=now,
                )
            )
            return digest_id


async def _alerted_stories(session: AsyncSession, endpoint: str, story_ids: set[int]) -> set[int]:
    """The stories this endpoint already had an alert for: it heard of them when they
    happened, so a digest leaves them out."""
    if not story_ids:
        return set()
    found = await session.scalars(
        select(AlertRow.story_id).where(
            AlertRow.endpoint == endpoint,
            AlertRow.kind == ARTICLE_MATCHED,
            AlertRow.story_id.in_(story_ids),
        )
    )
    return {story for story in found if story is not None}
