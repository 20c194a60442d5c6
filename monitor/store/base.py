"""What every part of the store shares: the engine, sessions, and one writer at a time on
SQLite."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any, cast

from sqlalchemy import Table
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker


class Database:
    """Sessions over one engine; every operation of a repository is one short transaction."""

    def __init__(self, engine: AsyncEngine) -> None:
        self.engine = engine
        self.sessions = async_sessionmaker(engine, expire_on_commit=False)
        # SQLite has one writer at a time; queueing writers here instead of in SQLite's busy
        # handler (which sleeps and polls) keeps concurrent feed checks from stalling.
        self._one_writer = asyncio.Lock() if engine.dialect.name == "sqlite" else None

    @property
    def is_postgresql(self) -> bool:
        return self.engine.dialect.name == "postgresql"

    @asynccontextmanager
    async def writing(self) -> AsyncIterator[AsyncSession]:
        """A session in a transaction that commits on success and rolls back on error."""
        if self._one_writer is None:
            async with self.sessions.begin() as session:
                yield session
            return
        async with self._one_writer, self.sessions.begin() as session:
            yield session

    def insert(self, table: Any) -> postgresql.Insert | sqlite.Insert:
        """INSERT with ``on_conflict_do_nothing``, which each dialect spells in its own module."""
        if self.is_postgresql:
            return postgresql.insert(table)
        return sqlite.insert(table)


class Repository:
    """One concern's operations over the shared database."""

    def __init__(self, db: Database) -> None:
        self._db = db


def table_of(mapped: type[Any]) -> Table:
    """The table of a mapped class, for Core statements: inserting many rows through the
    table costs far less Python than through the ORM's bulk path."""
    return cast(Table, mapped.__table__)
