"""Storage of feeds and of what each check learned: validators, schedule, status, refusals.

A repository of the ``Store`` facade (``store.feeds``).
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any, TypeVar

from sqlalchemy import Update, bindparam, delete, func, or_, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from monitor.records import Feed
from monitor.store.base import Repository
from monitor.store.tables import ConfigStateRow, FeedRow

T = TypeVar("T")


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
    fetch_url: str | None = None
    last_status: int | None = None
    disabled_reason: str | None = None
    refusal_count: int = 0


@dataclass(frozen=True, slots=True)
class UnchangedCheck:
    """A check that found the feed as it was (304, or the same body): only its validators, its
    schedule and perhaps its address move, so many of these are written in one statement."""

    feed_id: int
    status: int
    etag: str | None
    last_modified: str | None
    next_check_at: datetime
    moved_to: str | None = None  # the new address, when every redirect was permanent


@dataclass(frozen=True, slots=True)
class ParsedCheck:
    """A check that read the feed's entries: what ``check`` says, and what the body said (its
    hash, title, publishing interval and ``<ttl>``). ``body_hash`` None makes the next check
    read the body again even if it is the same."""

    check: UnchangedCheck
    body_hash: str | None
    title: str | None
    poll_interval_seconds: float | None
    ttl_seconds: float | None


class FeedRepository(Repository):
    """Typed operations on feeds; every method is one short transaction."""

    async def sync_config_feeds(
        self, feeds: Sequence[tuple[str, str | None]], now: datetime
    ) -> bool:
        """Make the config's feeds present and enabled; disable config feeds no longer listed.

        Feeds added with ``monitor feeds add`` are left alone, and so are feeds that asked to
        stop (410 Gone): only ``monitor feeds add`` brings those back. One upsert per thousand
        feeds; and nothing at all when the list is the one the last sync stored (its digest is
        kept, and dropped whenever a command adds or removes a feed). False when skipped.
        """
        listed = dict(feeds)
        digest = _digest(listed)
        async with self._db.writing() as session:
            stored = await session.get(ConfigStateRow, CONFIG_FEEDS)
            if stored is not None and stored.value == digest:
                return False
            rows = [new_feed_row(url, name, "config", now) for url, name in listed.items()]
            for chunk in _chunks(rows):
                upsert = self._db.insert(FeedRow).values(chunk)
                await session.execute(
                    upsert.on_conflict_do_update(
                        index_elements=["url"],
                        set_={
                            "name": upsert.excluded.name,
                            "enabled": FeedRow.disabled_reason.is_(None),
                        },
                        where=FeedRow.origin == "config",
                    )
                )
            enabled = await session.execute(
                select(FeedRow.id, FeedRow.url).where(FeedRow.origin == "config", FeedRow.enabled)
            )
            unlisted = [feed_id for feed_id, url in enabled.all() if url not in listed]
            for ids in _chunks(unlisted):
                await session.execute(
                    update(FeedRow).where(FeedRow.id.in_(ids)).values(enabled=False)
                )
            await session.merge(ConfigStateRow(key=CONFIG_FEEDS, value=digest))
        return True

    async def add_feed(self, url: str, name: str | None, now: datetime) -> bool:
        """Add a feed by hand; False if it was already there (it is then re-enabled, and
        checked again now, whatever stopped it)."""
        async with self._db.writing() as session:
            await forget_config_sync(session)
            added = await session.execute(
                self._db.insert(FeedRow)
                .values(new_feed_row(url, name, "cli", now))
                .on_conflict_do_nothing()
                .returning(FeedRow.id)
            )
            if added.first() is not None:
                return True
            await session.execute(
                update(FeedRow)
                .where(FeedRow.url == url)
                .values(enabled=True, disabled_reason=None, error_count=0, next_check_at=now)
            )
            return False

    async def remove_feed(self, url: str) -> bool:
        """Delete a feed; its stored articles stay, so their stories never alert again."""
        async with self._db.writing() as session:
            await forget_config_sync(session)
            removed = await session.execute(
                delete(FeedRow).where(FeedRow.url == url).returning(FeedRow.id)
            )
            return removed.first() is not None

    async def feeds_to_poll(
        self, now: datetime | None, limit: int | None = 1000, *, lease_seconds: float | None = None
    ) -> list[Feed]:
        """Enabled feeds due at ``now`` (all enabled feeds when ``now`` is None), oldest first;
        at most ``limit`` of them (None: every one).

        With ``lease_seconds`` the feeds are claimed: no other replica gets them until this one
        records their check or the lease runs out (a replica killed mid-check), and on
        PostgreSQL feeds another replica is claiming are skipped, not waited for.
        """
        query = select(
            FeedRow.id,
            FeedRow.url,
            FeedRow.title,
            FeedRow.name,
            FeedRow.etag,
            FeedRow.last_modified,
            FeedRow.body_hash,
            FeedRow.error_count,
            FeedRow.fetch_url,
            FeedRow.poll_interval_seconds,
            FeedRow.ttl_seconds,
        ).where(FeedRow.enabled.is_(True))
        if now is not None:
            query = query.where(FeedRow.next_check_at <= now)
        query = query.order_by(FeedRow.next_check_at, FeedRow.id).limit(limit)
        if lease_seconds is None or now is None:
            async with self._db.sessions() as session:
                rows = (await session.execute(query)).all()
        else:
            query = query.where(or_(FeedRow.leased_until.is_(None), FeedRow.leased_until <= now))
            if self._db.is_postgresql:
                query = query.with_for_update(skip_locked=True, of=FeedRow)
            async with self._db.writing() as session:
                rows = (await session.execute(query)).all()
                if rows:
                    await session.execute(
                        update(FeedRow)
                        .where(FeedRow.id.in_([row.id for row in rows]))
                        .values(leased_until=now + timedelta(seconds=lease_seconds))
                    )
        # Unpacked by position, in the order selected: ten thousand rows on a large poll.
        return [
            Feed(feed_id, url, title or name or "", etag, modified, body_hash, errors, *rest)
            for feed_id, url, title, name, etag, modified, body_hash, errors, *rest in rows
        ]

    async def release_feeds(self, feed_ids: Sequence[int]) -> None:
        """Give back claimed feeds unchecked (a replica stopping), due again at once."""
        if not feed_ids:
            return
        async with self._db.writing() as session:
            await session.execute(
                update(FeedRow).where(FeedRow.id.in_(feed_ids)).values(leased_until=None)
            )

    async def extend_feed_leases(self, feed_ids: Sequence[int], until: datetime) -> None:
        """Hold claimed feeds until ``until`` while their check goes on (many slow article
        pages can outlast a lease); a feed whose check was recorded is no longer leased."""
        if not feed_ids:
            return
        async with self._db.writing() as session:
            await session.execute(
                update(FeedRow)
                .where(FeedRow.id.in_(feed_ids), FeedRow.leased_until.is_not(None))
                .values(leased_until=until)
            )

    async def record_unchanged(self, checks: Sequence[UnchangedCheck], now: datetime) -> None:
        """Remember many checks that found their feed unchanged, in one transaction."""
        if not checks:
            return
        statement = update(FeedRow).where(FeedRow.id == bindparam("b_feed_id")).values(**_checked())
        rows = [_unchanged_row(check) for check in checks]
        await self._record(statement, rows, [check.feed_id for check in checks], now)

    async def record_parsed(self, checks: Sequence[ParsedCheck], now: datetime) -> None:
        """Remember many checks that read their feed's entries, in one statement; the caller
        records a check only once its entries are stored, so that a crash before then makes
        the next check read them again rather than skip them."""
        if not checks:
            return
        statement = (
            update(FeedRow)
            .where(FeedRow.id == bindparam("b_feed_id"))
            .values(
                **_checked(),
                body_hash=bindparam("b_body_hash"),
                title=func.coalesce(bindparam("b_title"), FeedRow.title),
                poll_interval_seconds=bindparam("b_interval"),
                ttl_seconds=bindparam("b_ttl"),
            )
        )
        rows = [
            {
                **_unchanged_row(check.check),
                "b_body_hash": check.body_hash,
                "b_title": check.title or None,
                "b_interval": check.poll_interval_seconds,
                "b_ttl": check.ttl_seconds,
            }
            for check in checks
        ]
        await self._record(statement, rows, [check.check.feed_id for check in checks], now)

    async def _record(
        self, statement: Update, rows: list[dict[str, Any]], feed_ids: list[int], now: datetime
    ) -> None:
        """Each feed's own values in one executemany; what every successful check sets alike
        (when, and that the feed is well and unclaimed) by id, a thousand ids a statement, so
        that ten thousand rows do not each carry and convert the same timestamps."""
        async with self._db.writing() as session:
            connection = await session.connection()
            await connection.execute(statement, rows)
            for ids in _chunks(feed_ids):
                await connection.execute(
                    update(FeedRow)
                    .where(FeedRow.id.in_(ids))
                    .values(
                        last_checked_at=now,
                        last_success_at=now,
                        error_count=0,
                        last_error=None,
                        leased_until=None,
                    )
                )

    async def record_feed_failure(
        self,
        feed_id: int,
        *,
        now: datetime,
        next_check_at: datetime,
        error: str,
        status: int | None = None,
        refused: bool = False,
        disable: bool = False,
    ) -> None:
        """Remember a failed check and when to try again; ``disable`` stops the feed for good
        (until ``monitor feeds add``) with ``error`` as the reason an operator sees."""
        values: dict[str, Any] = {
            "last_checked_at": now,
            "next_check_at": next_check_at,
            "last_error": error,
            "last_status": status,
            "error_count": FeedRow.error_count + 1,
            "leased_until": None,
        }
        if refused:
            values["refusal_count"] = FeedRow.refusal_count + 1
        if disable:
            values["enabled"] = False
            values["disabled_reason"] = error
        async with self._db.writing() as session:
            await session.execute(update(FeedRow).where(FeedRow.id == feed_id).values(values))

    async def count_refusal(self, feed_id: int) -> None:
        """Count a refused fetch of one of the feed's article links."""
        async with self._db.writing() as session:
            await session.execute(
                update(FeedRow)
                .where(FeedRow.id == feed_id)
                .values(refusal_count=FeedRow.refusal_count + 1)
            )

    async def list_feeds(self) -> list[FeedStatus]:
        """Every feed as ``monitor feeds list`` shows it, in the order they were added."""
        query = select(
            FeedRow.url,
            FeedRow.name,
            FeedRow.title,
            FeedRow.origin,
            FeedRow.enabled,
            FeedRow.next_check_at,
            FeedRow.last_success_at,
            FeedRow.error_count,
            FeedRow.last_error,
            FeedRow.fetch_url,
            FeedRow.last_status,
            FeedRow.disabled_reason,
            FeedRow.refusal_count,
        ).order_by(FeedRow.id)
        async with self._db.sessions() as session:
            rows = (await session.execute(query)).all()
        return [FeedStatus(*row) for row in rows]  # the columns in FeedStatus's order


def new_feed_row(url: str, name: str | None, origin: str, now: datetime) -> dict[str, Any]:
    """The columns of a new feed, due now; ``origin`` says who added it (config, cli, import)."""
    return {
        "url": url,
        "name": name,
        "title": "",
        "origin": origin,
        "enabled": True,
        "next_check_at": now,
        "error_count": 0,
        "refusal_count": 0,
        "created_at": now,
    }


CONFIG_FEEDS = "config_feeds"  # the digest of the feed list the last config sync applied
_CHUNK = 1000  # rows per statement: well under SQLite's and asyncpg's bound parameters


async def forget_config_sync(session: AsyncSession) -> None:
    """Make the next start sync the config's feeds again: a command changed the feed list."""
    await session.execute(delete(ConfigStateRow).where(ConfigStateRow.key == CONFIG_FEEDS))


def _unchanged_row(check: UnchangedCheck) -> dict[str, Any]:
    return {
        "b_feed_id": check.feed_id,
        "b_etag": check.etag,
        "b_last_modified": check.last_modified,
        "b_next_check_at": check.next_check_at,
        "b_status": check.status,
        "b_moved_to": check.moved_to,
    }


def _digest(listed: dict[str, str | None]) -> str:
    text = json.dumps(sorted(listed.items()), ensure_ascii=False, separators=(",", ":"))
    return hashlib.sha256(text.encode()).hexdigest()


def _chunks(items: Sequence[T]) -> Iterator[Sequence[T]]:
    for start in range(0, len(items), _CHUNK):
        yield items[start : start + _CHUNK]


def _checked() -> dict[str, Any]:
    """What every successful check records of its feed, bound per row of a batch."""
    return {
        "etag": bindparam("b_etag"),
        "last_modified": bindparam("b_last_modified"),
        "next_check_at": bindparam("b_next_check_at"),
        "last_status": bindparam("b_status"),
        "fetch_url": func.coalesce(bindparam("b_moved_to"), FeedRow.fetch_url),
    }
