"""Webhook endpoints as the database knows them: which exist, which a receiver disabled with
410 Gone, when each last had a digest, and how many of its alerts wait or are dead."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import func, select, update

from monitor.store.base import Repository
from monitor.store.tables import AlertRow, EndpointRow, MatchRow


@dataclass(frozen=True, slots=True)
class EndpointState:
    """What the database knows of an endpoint."""

    name: str
    disabled_reason: str | None
    last_digest_at: datetime | None
    pending: int
    dead: int


class EndpointRepository(Repository):
    """Endpoint state; every method is one short transaction."""

    async def ensure_endpoints(self, names: Sequence[str]) -> None:
        """Remember new endpoints; a new endpoint's digest starts from the matches to come."""
        async with self._db.writing() as session:
            latest = int(await session.scalar(select(func.max(MatchRow.id))) or 0)
            for name in names:
                await session.execute(
                    self._db.insert(EndpointRow)
                    .values(name=name, digest_after_match_id=latest)
                    .on_conflict_do_nothing()
                )

    async def disable_endpoint(self, name: str, reason: str, now: datetime) -> None:
        async with self._db.writing() as session:
            await session.execute(
                update(EndpointRow)
                .where(EndpointRow.name == name)
                .values(disabled_reason=reason, disabled_at=now)
            )

    async def enable_endpoint(self, name: str) -> bool:
        async with self._db.writing() as session:
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
        async with self._db.sessions() as session:
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
