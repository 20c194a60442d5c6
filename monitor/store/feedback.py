"""An operator's feedback on a topic: examples and counter-examples kept in the database, added
to the topic's own by the daemon and by ``monitor classify``."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Literal

from sqlalchemy import delete, func, select

from monitor.store.base import Repository
from monitor.store.tables import TopicFeedbackRow

FeedbackKind = Literal["example", "counter_example"]
FEEDBACK_KINDS: tuple[FeedbackKind, ...] = ("example", "counter_example")


@dataclass(frozen=True, slots=True)
class FeedbackEntry:
    """One stored example or counter-example of a topic."""

    id: int
    topic: str
    kind: FeedbackKind
    text: str
    alert_id: str | None
    created_at: datetime


@dataclass(frozen=True, slots=True)
class TopicFeedback:
    """A topic's stored examples and counter-examples, in the order they were given."""

    examples: tuple[str, ...] = ()
    counter_examples: tuple[str, ...] = ()


def feedback_by_topic(entries: Sequence[FeedbackEntry]) -> dict[str, TopicFeedback]:
    """The entries grouped per topic, oldest first."""
    grouped: dict[str, tuple[list[str], list[str]]] = {}
    for entry in sorted(entries, key=lambda e: e.id):
        examples, counters = grouped.setdefault(entry.topic, ([], []))
        (examples if entry.kind == "example" else counters).append(entry.text)
    return {
        topic: TopicFeedback(tuple(examples), tuple(counters))
        for topic, (examples, counters) in grouped.items()
    }


def _entry(row: TopicFeedbackRow) -> FeedbackEntry:
    kind: FeedbackKind = "example" if row.kind == "example" else "counter_example"
    return FeedbackEntry(row.id, row.topic, kind, row.text, row.alert_id, row.created_at)


class FeedbackRepository(Repository):
    """Stored topic feedback; every method is one short transaction."""

    async def add(
        self, topic: str, kind: FeedbackKind, text: str, alert_id: str | None, now: datetime
    ) -> FeedbackEntry:
        """Store one example or counter-example; the caller has bounded and cleaned ``text``."""
        row = TopicFeedbackRow(topic=topic, kind=kind, text=text, alert_id=alert_id, created_at=now)
        async with self._db.writing() as session:
            session.add(row)
            await session.flush()
            return _entry(row)

    async def remove(self, feedback_id: int) -> FeedbackEntry | None:
        """Delete one entry; the entry deleted, or None if there was none with that id."""
        async with self._db.writing() as session:
            row = await session.get(TopicFeedbackRow, feedback_id)
            if row is None:
                return None
            entry = _entry(row)
            await session.execute(
                delete(TopicFeedbackRow).where(TopicFeedbackRow.id == feedback_id)
            )
            return entry

    async def entries(self, topic: str | None = None) -> list[FeedbackEntry]:
        """Every entry (of ``topic``, if given), oldest first."""
        query = select(TopicFeedbackRow).order_by(TopicFeedbackRow.id)
        if topic is not None:
            query = query.where(TopicFeedbackRow.topic == topic)
        async with self._db.sessions() as session:
            return [_entry(row) for row in (await session.scalars(query)).all()]

    async def version(self) -> tuple[int, int]:
        """How many entries there are and the highest id: it changes whenever one is added or
        removed, so the daemon can tell when to recompile its topics with one cheap query."""
        query = select(func.count(TopicFeedbackRow.id), func.max(TopicFeedbackRow.id))
        async with self._db.sessions() as session:
            count, highest = (await session.execute(query)).one()
        return int(count or 0), int(highest or 0)
