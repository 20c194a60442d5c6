"""Alembic environment: runs on the connection ``monitor.database.upgrade_schema`` hands over,
or, from the ``alembic`` command line, on ``MONITOR_DATABASE_URL``."""

from __future__ import annotations

import asyncio
import os

from sqlalchemy.engine import Connection

from alembic import context
from monitor.database import open_engine
from monitor.tables import Base

config = context.config
target_metadata = Base.metadata


def run_on(connection: Connection) -> None:
    context.configure(
        connection=connection,
        target_metadata=target_metadata,
        render_as_batch=connection.dialect.name == "sqlite",
        compare_type=True,
    )
    with context.begin_transaction():
        context.run_migrations()


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
