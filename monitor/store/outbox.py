"""The alert outbox in the database: claiming due rows, recording attempts, digests, and the
operator's commands (show, retry, replay) and endpoint state.

A sender claims rows for a lease; a sender killed mid-send loses its claim when the lease ends,
and the row is sent again with the same id. So an alert is never lost, and a repeat is always
recognisable by its ``webhook-id``.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import func, or_, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from monitor.deliver.payloads import ARTICLE_MATCHED, iso_utc, story_field
from monitor.records import PendingAlert
from monitor.store.base import StoreBase
from monitor.store.stories import story_info
from monitor.store.tables import AlertRow, ArticleRow, AttemptRow, EndpointRow, FeedRow, MatchRow

DigestBuilder = Callable[[str, list[dict[str, Any]]], dict[str, Any]]
# A digest's query row: the match, its article, and the feed's title, name and address.
DigestRow = tuple[MatchRow, ArticleRow, str | None, str | None, str | None]


@dataclass(frozen=True, slots=True)
class AlertStatus:
    """An alert as an operator sees it in ``monitor alerts list``."""

    id: str
    kind: str
    topic: str
    endpoint: str
    status: str
    attempts: int
    title: str
    url: str
    created_at: datetime
    next_attempt_at: datetime
    last_error: str | None


@dataclass(frozen=True, slots=True)
class Attempt:
    """One delivery attempt, as ``monitor alerts show`` lists it."""

    number: int
    at: datetime
    status_code: int | None
    error: str | None
    duration_ms: int


@dataclass(frozen=True, slots=True)
class AlertDetail:
    """An alert with its payload and every attempt."""

    alert: AlertStatus
    payload: dict[str, Any]
    delivered_at: datetime | None
    attempts: tuple[Attempt, ...]


@dataclass(frozen=True, slots=True)
class EndpointState:
    """What the database knows of an endpoint."""

    name: str
    disabled_reason: str | None
    last_digest_at: datetime | None
    pending: int
    dead: int


class OutboxStore(StoreBase):
    """Outbox operations; every method is one short transaction."""

    async def claim_due(
        self, endpoint: str, now: datetime, limit: int, lease_seconds: float
    ) -> list[PendingAlert]:
        """Take up to ``limit`` due alerts of ``endpoint`` for ``lease_seconds``. On PostgreSQL
        rows another sender holds are skipped, not waited for (FOR UPDATE SKIP LOCKED)."""
        due = (
            select(AlertRow)
            .where(
                AlertRow.status == "pending",
                AlertRow.endpoint == endpoint,
                AlertRow.next_attempt_at <= now,
                or_(AlertRow.claimed_until.is_(None), AlertRow.claimed_until <= now),
            )
            .order_by(AlertRow.next_attempt_at, AlertRow.created_at)
            .limit(limit)
        )
        if self.is_postgresql:
            due = due.with_for_update(skip_locked=True)
        async with self._writing() as session:
            rows = (await session.scalars(due)).all()
            if rows:
                await session.execute(
                    update(AlertRow)
                    .where(AlertRow.id.in_([row.id for row in rows]))
                    .values(claimed_until=now + timedelta(seconds=lease_seconds))
                )
        return [PendingAlert(row.id, row.endpoint, row.payload, row.attempts) for row in rows]

    async def release(self, alert_ids: Sequence[str]) -> None:
        """Give claimed alerts back (a sender stopping before it sent them)."""
        if not alert_ids:
            return
        async with self._writing() as session:
            await session.execute(
                update(AlertRow).where(AlertRow.id.in_(alert_ids)).values(claimed_until=None)
            )

    async def record_attempt(
        self,
        alert_id: str,
        *,
        now: datetime,
        status_code: int | None,
        error: str | None,
        duration_ms: int,
        outcome: str,
        next_attempt_at: datetime | None = None,
    ) -> None:
        """Record one attempt and the alert's new state: ``delivered``, ``pending`` again at
        ``next_attempt_at``, ``dead`` (no attempt left), or ``held`` (pending, its endpoint
        disabled; the attempt does not count against the schedule)."""
        values: dict[str, Any] = {
            "claimed_until": None,
            "last_status_code": status_code,
            "last_error": error,
        }
        if outcome != "held":
            values["attempts"] = AlertRow.attempts + 1
        if outcome == "delivered":
            values |= {"status": "delivered", "delivered_at": now}
        elif outcome == "dead":
            values["status"] = "dead"
        elif next_attempt_at is not None:
            values["next_attempt_at"] = next_attempt_at
        async with self._writing() as session:
            number = await session.scalar(
                select(func.count(AttemptRow.id)).where(AttemptRow.alert_id == alert_id)
            )
            session.add(
                AttemptRow(
                    alert_id=alert_id,
                    number=int(number or 0) + 1,
                    at=now,
                    status_code=status_code,
                    error=error,
                    duration_ms=duration_ms,
                )
            )
            await session.execute(update(AlertRow).where(AlertRow.id == alert_id).values(values))

    # What an operator asks for.

    def _listing(self) -> Any:
        return (
            select(AlertRow, ArticleRow.title, ArticleRow.url)
            .outerjoin(ArticleRow, ArticleRow.id == AlertRow.article_id)
            .order_by(AlertRow.created_at.desc(), AlertRow.id)
        )

    async def list_alerts(self, status: str | None = None, limit: int = 50) -> list[AlertStatus]:
        query = self._listing().limit(limit)
        if status is not None:
            query = query.where(AlertRow.status == status)
        async with self._sessions() as session:
            rows = (await session.execute(query)).all()
        return [_status(alert, title, url) for alert, title, url in rows]

    async def alert_detail(self, alert_id: str) -> AlertDetail | None:
        """An alert, its payload and its attempts; None if there is no such alert."""
        async with self._sessions() as session:
            row = (await session.execute(self._listing().where(AlertRow.id == alert_id))).first()
            if row is None:
                return None
            attempts = (
                await session.scalars(
                    select(AttemptRow)
                    .where(AttemptRow.alert_id == alert_id)
                    .order_by(AttemptRow.number)
                )
            ).all()
        alert, title, url = row
        return AlertDetail(
            alert=_status(alert, title, url),
            payload=alert.payload,
            delivered_at=alert.delivered_at,
            attempts=tuple(
                Attempt(a.number, a.at, a.status_code, a.error, a.duration_ms) for a in attempts
            ),
        )

    async def retry_alerts(
        self, now: datetime, *, ids: Sequence[str] = (), dead: bool = False
    ) -> int:
        """Make alerts (by id, or every dead one) pending and due now, with a fresh schedule."""
        condition = AlertRow.status == "dead" if dead else AlertRow.id.in_(ids)
        async with self._writing() as session:
            result = await session.execute(
                update(AlertRow)
                .where(condition, AlertRow.status != "pending")
                .values(status="pending", attempts=0, next_attempt_at=now, claimed_until=None)
                .returning(AlertRow.id)
            )
            return len(result.all())

    async def replay_alerts(self, since: datetime, now: datetime) -> int:
        """Send delivered alerts created since ``since`` again, with their own ids."""
        async with self._writing() as session:
            result = await session.execute(
                update(AlertRow)
                .where(AlertRow.status == "delivered", AlertRow.created_at >= since)
                .values(status="pending", attempts=0, next_attempt_at=now, claimed_until=None)
                .returning(AlertRow.id)
            )
            return len(result.all())

    # Endpoints.

    async def ensure_endpoints(self, names: Sequence[str]) -> None:
        """Remember new endpoints; a new endpoint's digest starts from the matches to come."""
        async with self._writing() as session:
            latest = int(await session.scalar(select(func.max(MatchRow.id))) or 0)
            for name in names:
                await session.execute(
                    self._insert(EndpointRow)
                    .values(name=name, digest_after_match_id=latest)
                    .on_conflict_do_nothing()
                )

    async def disable_endpoint(self, name: str, reason: str, now: datetime) -> None:
        async with self._writing() as session:
            await session.execute(
                update(EndpointRow)
                .where(EndpointRow.name == name)
                .values(disabled_reason=reason, disabled_at=now)
            )

    async def enable_endpoint(self, name: str) -> bool:
        async with self._writing() as session:
            result = await session.execute(
                update(EndpointRow)
                .where(EndpointRow.name == name, EndpointRow.disabled_reason.is_not(None))
                .values(disabled_reason=None, disabled_at=None)
                .returning(EndpointRow.name)
            )
            return result.first() is not None

    async def endpoint_states(self) -> dict[str, EndpointState]:
        counts = (
            select(AlertRow.endpoint, AlertRow.status, func.count(AlertRow.id))
            .where(AlertRow.status.in_(["pending", "dead"]))
            .group_by(AlertRow.endpoint, AlertRow.status)
        )
        async with self._sessions() as session:
            rows = (await session.scalars(select(EndpointRow))).all()
            tally = {(e, s): int(n) for e, s, n in (await session.execute(counts)).all()}
        return {
            row.name: EndpointState(
                name=row.name,
                disabled_reason=row.disabled_reason,
                last_digest_at=row.last_digest_at,
                pending=tally.get((row.name, "pending"), 0),
                dead=tally.get((row.name, "dead"), 0),
            )
            for row in rows
        }

    async def queue_digest(
        self, endpoint: str, topics: Sequence[str], now: datetime, build: DigestBuilder
    ) -> str | None:
        """Put the digest-level matches since the endpoint's last digest into one outbox row,
        moving the endpoint's mark past them in the same transaction: a digest is never
        queued twice and no match is skipped. Returns the row's id, or None if there was
        nothing to send."""
        async with self._writing() as session:
            # Locked, so two replicas at the same digest time make one digest, not two.
            state = await session.get(EndpointRow, endpoint, with_for_update=True)
            after = state.digest_after_match_id if state is not None else 0
            # Everything up to the newest match is considered now, whatever its topic, so the
            # mark can move past matches this endpoint does not take.
            upto = int(await session.scalar(select(func.max(MatchRow.id))) or 0)
            query = (
                select(MatchRow, ArticleRow, FeedRow.title, FeedRow.name, FeedRow.url)
                .join(ArticleRow, ArticleRow.id == MatchRow.article_id)
                .outerjoin(FeedRow, FeedRow.id == ArticleRow.feed_id)
                .where(MatchRow.level == "digest", MatchRow.id > after, MatchRow.id <= upto)
                .order_by(MatchRow.id)
            )
            if topics:
                query = query.where(MatchRow.topic.in_(topics))
            rows: list[DigestRow] = [
                (match, article, title, name, url)
                for match, article, title, name, url in await session.execute(query)
            ]
            await session.execute(
                update(EndpointRow)
                .where(EndpointRow.name == endpoint)
                .values(last_digest_at=now, digest_after_match_id=max(after, upto))
            )
            stories = await _digest_stories(session, endpoint, rows)
            if not stories:
                return None
            digest_id = str(uuid.uuid4())
            session.add(
                AlertRow(
                    id=digest_id,
                    kind="digest",
                    article_id=None,
                    topic=",".join(sorted({story["topic"] for story in stories})),
                    endpoint=endpoint,
                    status="pending",
                    payload=build(digest_id, stories),
                    attempts=0,
                    next_attempt_at=now,
                    created_at=now,
                )
            )
            return digest_id


def _status(alert: AlertRow, title: str | None, url: str | None) -> AlertStatus:
    if title is None:  # a digest: no article of its own
        count = len(alert.payload.get("stories", [])) + int(alert.payload.get("more_stories", 0))
        title = f"digest of {count} stories"
    return AlertStatus(
        id=alert.id,
        kind=alert.kind,
        topic=alert.topic,
        endpoint=alert.endpoint,
        status=alert.status,
        attempts=alert.attempts,
        title=title,
        url=url or "",
        created_at=alert.created_at,
        next_attempt_at=alert.next_attempt_at,
        last_error=alert.last_error,
    )


async def _digest_stories(
    session: AsyncSession, endpoint: str, rows: Sequence[DigestRow]
) -> list[dict[str, Any]]:
    """One entry per story and topic: the story's first article in the digest, with the
    story's outlets. A story the endpoint already had an alert for is left out: it heard of
    the story when it happened."""
    story_ids = {row[1].story_id for row in rows if row[1].story_id is not None}
    alerted = set(
        await session.scalars(
            select(AlertRow.story_id).where(
                AlertRow.endpoint == endpoint,
                AlertRow.kind == ARTICLE_MATCHED,
                AlertRow.story_id.in_(story_ids),
            )
        )
    )
    seen: set[tuple[str, int, bool]] = set()
    stories = []
    for match, article, feed_title, feed_name, feed_url in rows:
        story_id = article.story_id
        key = (
            (match.topic, article.id, False) if story_id is None else (match.topic, story_id, True)
        )
        if key in seen or story_id in alerted:
            continue
        seen.add(key)
        entry = _story(match, article, feed_title, feed_name, feed_url)
        if story_id is not None:
            entry["story"] = story_field(await story_info(session, story_id))
        stories.append(entry)
    return stories


def _story(
    match: MatchRow,
    article: ArticleRow,
    feed_title: str | None,
    feed_name: str | None,
    feed_url: str | None,
) -> dict[str, Any]:
    return {
        "topic": match.topic,
        "title": article.title,
        "url": article.url,
        "source": {"title": feed_title or feed_name or "", "url": feed_url or ""},
        "published_at": iso_utc(article.published_at),
        "summary": article.summary,
        "matched_terms": list(match.terms),
        "matched_rules": list(match.rules),
        "score": match.score,
    }
