"""Alembic environment: runs on the connection ``monitor.store.engine.upgrade_schema`` hands over,
or, from the ``alembic`` command line, on ``MONITOR_DATABASE_URL``."""

from __future__ import annotations

import asyncio
import os

from alembic import context
from sqlalchemy.engine import Connection

from monitor.store.engine import open_engine
from monitor.store.tables import Base

config = context.config
target_metadata = Base.metadata


def run_on(connection: Connection) -> None:
    if connection.dialect.name == "sqlite" and not _sqlite_in_transaction(connection):
        # The sqlite3 module opens a transaction only before INSERT, UPDATE or DELETE, so a
        # migration's CREATE and ALTER statements would each commit alone: a process killed
        # between two of them leaves tables with no version recorded, and every later start
        # fails on "table already exists". SQLite's DDL is transactional; one explicit
        # transaction makes the whole upgrade all or nothing. IMMEDIATE takes the write lock
        # up front, so two processes starting at once migrate one after the other.
        connection.exec_driver_sql("BEGIN IMMEDIATE")
    context.configure(
        connection=connection,
        target_metadata=target_metadata,
        render_as_batch=connection.dialect.name == "sqlite",
        compare_type=True,
    )
    with context.begin_transaction():
        context.run_migrations()


def _sqlite_in_transaction(connection: Connection) -> bool:
    """Whether SQLite itself has a transaction open (the caller may have begun one)."""
    driver = connection.connection.driver_connection
    return driver is not None and bool(driver.in_transaction)


async def run_from_url(url: str) -> None:
    engine = open_engine(url)
    async with engine.begin() as connection:
        await connection.run_sync(run_on)
    await engine.dispose()


connection = config.attributes.get("connection")
if connection is not None:
    run_on(connection)
else:
    asyncio.run(
        run_from_url(os.environ.get("MONITOR_DATABASE_URL", "sqlite+aiosqlite:///data/monitor.db"))
    )
