"""The alert outbox in the database: claiming due rows, recording attempts, and the operator's
commands (list, show, retry, replay).

A sender claims rows for a lease; a sender killed mid-send loses its claim when the lease ends,
and the row is sent again with the same id. So an alert is never lost, and a repeat is always
recognisable by its ``webhook-id``.
"""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from dataclasses import dataclass, replace
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import func, or_, select, tuple_, update

from monitor.deliver.payloads import render_payload
from monitor.records import PendingAlert
from monitor.store.alert_facts import alert_facts
from monitor.store.base import Repository
from monitor.store.tables import AlertRow, ArticleRow, AttemptRow


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
    """An alert with the facts its payload is rendered from, and every attempt."""

    alert: AlertStatus
    facts: PendingAlert
    delivered_at: datetime | None
    attempts: tuple[Attempt, ...]

    @property
    def payload(self) -> dict[str, Any]:
        """The payload as it would be sent now."""
        return render_payload(self.facts)


class OutboxRepository(Repository):
    """Outbox operations; every method is one short transaction."""

    async def claim_due(
        self, endpoint: str, now: datetime, limit: int, lease_seconds: float
    ) -> list[PendingAlert]:
        """Take up to ``limit`` due alerts of ``endpoint`` for ``lease_seconds`` under a new
        claim token. On PostgreSQL rows another sender holds are skipped, not waited for (FOR
        UPDATE SKIP LOCKED)."""
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
        if self._db.is_postgresql:
            due = due.with_for_update(skip_locked=True)
        claim = str(uuid.uuid4())
        async with self._db.writing() as session:
            rows = (await session.scalars(due)).all()
            if not rows:
                return []
            await session.execute(
                update(AlertRow)
                .where(AlertRow.id.in_([row.id for row in rows]))
                .values(claimed_until=now + timedelta(seconds=lease_seconds), claim_token=claim)
            )
            return [replace(alert, claim=claim) for alert in await alert_facts(session, rows)]

    async def extend_claims(self, alerts: Sequence[PendingAlert], until: datetime) -> int:
        """Hold claimed alerts until ``until``, those whose claim is still the caller's; how
        many that was."""
        held = 0
        async with self._db.writing() as session:
            for claim, ids in _by_claim(alerts).items():
                result = await session.execute(
                    update(AlertRow)
                    .where(AlertRow.id.in_(ids), AlertRow.claim_token == claim)
                    .values(claimed_until=until)
                    .returning(AlertRow.id)
                )
                held += len(result.all())
        return held

    async def release(self, alerts: Sequence[PendingAlert]) -> None:
        """Give claimed alerts back (a sender stopping before it sent them)."""
        async with self._db.writing() as session:
            for claim, ids in _by_claim(alerts).items():
                await session.execute(
                    update(AlertRow)
                    .where(AlertRow.id.in_(ids), AlertRow.claim_token == claim)
                    .values(claimed_until=None, claim_token=None)
                )

    async def record_attempt(
        self,
        alert: PendingAlert,
        *,
        now: datetime,
        status_code: int | None,
        error: str | None,
        duration_ms: int,
        outcome: str,
        next_attempt_at: datetime | None = None,
    ) -> bool:
        """Record one attempt and the alert's new state: ``delivered``, ``pending`` again at
        ``next_attempt_at``, ``dead`` (no attempt left), or ``held`` (pending, its endpoint
        disabled; the attempt does not count against the schedule).

        Only the holder of the alert's current claim may: a sender whose lease ran out (and
        whose alert another sender may have delivered since) changes nothing, and False says
        so."""
        values: dict[str, Any] = {
            "claimed_until": None,
            "claim_token": None,
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
        async with self._db.writing() as session:
            held = await session.execute(
                update(AlertRow)
                .where(
                    AlertRow.id == alert.id,
                    AlertRow.claim_token == alert.claim,
                    AlertRow.status == "pending",
                )
                .values(values)
                .returning(AlertRow.id)
            )
            if held.first() is None:
                return False
            # Numbered under the claim, so no other writer numbers this alert's attempts now;
            # the unique constraint on (alert_id, number) stands behind it.
            number = await session.scalar(
                select(func.count(AttemptRow.id)).where(AttemptRow.alert_id == alert.id)
            )
            session.add(
                AttemptRow(
                    alert_id=alert.id,
                    number=int(number or 0) + 1,
                    at=now,
                    status_code=status_code,
                    error=error,
                    duration_ms=duration_ms,
                )
            )
            return True

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
        async with self._db.sessions() as session:
            rows = (await session.execute(query)).all()
        return [_status(alert, title, url) for alert, title, url in rows]

    async def alert_detail(self, alert_id: str) -> AlertDetail | None:
        """An alert, its payload and its attempts; None if there is no such alert."""
        async with self._db.sessions() as session:
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
            [facts] = await alert_facts(session, [alert])
        return AlertDetail(
            alert=_status(alert, title, url),
            facts=facts,
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
        return await self._due_again(now, condition, AlertRow.status != "pending")

    async def move_alerts(self, source: str, target: str) -> tuple[int, int]:
        """Re-route the undelivered (pending or dead) alerts of endpoint ``source`` to
        ``target``, e.g. after the endpoint was renamed in the config. An alert ``target``
        already has for the same article and topic stays where it is. Returns how many moved
        and how many stayed."""
        undelivered = (AlertRow.endpoint == source, AlertRow.status.in_(["pending", "dead"]))
        async with self._db.writing() as session:
            taken = select(AlertRow.article_id, AlertRow.topic).where(
                AlertRow.endpoint == target, AlertRow.article_id.is_not(None)
            )
            moved = await session.execute(
                update(AlertRow)
                .where(
                    *undelivered,
                    or_(
                        AlertRow.article_id.is_(None),
                        tuple_(AlertRow.article_id, AlertRow.topic).not_in(taken),
                    ),
                )
                .values(endpoint=target, claimed_until=None, claim_token=None)
                .returning(AlertRow.id)
            )
            count = len(moved.all())
            stayed = await session.scalar(select(func.count(AlertRow.id)).where(*undelivered))
        return count, int(stayed or 0)

    async def replay_alerts(self, since: datetime, now: datetime) -> int:
        """Send delivered alerts created since ``since`` again, with their own ids."""
        return await self._due_again(
            now, AlertRow.status == "delivered", AlertRow.created_at >= since
        )

    async def _due_again(self, now: datetime, *conditions: Any) -> int:
        """The alerts ``conditions`` select, pending and due now with a fresh schedule, under
        no claim; how many."""
        async with self._db.writing() as session:
            result = await session.execute(
                update(AlertRow)
                .where(*conditions)
                .values(
                    status="pending",
                    attempts=0,
                    next_attempt_at=now,
                    claimed_until=None,
                    claim_token=None,
                )
                .returning(AlertRow.id)
            )
            return len(result.all())


def _status(alert: AlertRow, title: str | None, url: str | None) -> AlertStatus:
    if title is None:  # a digest: no article of its own
        count = (
            len(alert.digest_match_ids or [])
            if alert.payload is None
            else len(alert.payload.get("stories", [])) + int(alert.payload.get("more_stories", 0))
        )
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


def _by_claim(alerts: Sequence[PendingAlert]) -> dict[str, list[str]]:
    grouped: dict[str, list[str]] = {}
    for alert in alerts:
        if alert.claim is not None:
            grouped.setdefault(alert.claim, []).append(alert.id)
    return grouped
