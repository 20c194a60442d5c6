"""The one async engine, SQLite pragmas, and schema migrations through Alembic."""

from __future__ import annotations

import sqlite3
from pathlib import Path
from typing import TYPE_CHECKING, Any

from sqlalchemy import event, text
from sqlalchemy.engine import Connection, make_url
from sqlalchemy.exc import DBAPIError, SQLAlchemyError
from sqlalchemy.ext.asyncio import AsyncEngine, create_async_engine

from monitor.text.redact import redact, redact_url

if TYPE_CHECKING:
    from alembic.config import Config

MIGRATIONS_DIR = Path(__file__).resolve().parent / "migrations"  # shipped in the wheel
MIGRATION_LOCK = 0x6D6F6E69  # "moni": the advisory lock key that serialises migrations
# The newest migration's revision (a test holds it to the scripts). A database found at it needs
# nothing, and Alembic, which takes longer to load than a warm poll of a thousand feeds, is then
# never imported.
SCHEMA_HEAD = "0012"


class DatabaseError(Exception):
    """The database cannot be reached or migrated; the message says which and why."""


def open_engine(database_url: str) -> AsyncEngine:
    """Create the engine; for SQLite, make the file's folder and turn on WAL and foreign keys."""
    url = make_url(database_url)
    if url.get_backend_name() != "sqlite":
        return create_async_engine(url, pool_pre_ping=True, pool_size=10, max_overflow=5)
    if url.database and url.database != ":memory:":
        Path(url.database).parent.mkdir(parents=True, exist_ok=True)
    # Every entry a poll works on at once (fetch.concurrency x poll.article_concurrency: 32 by
    # default) may read the store at the same moment: enough connections that none of them
    # waits for one while the single writer holds its own (a wait that, on a starved event
    # loop, ran out and failed the entry).
    engine = create_async_engine(
        url, connect_args={"timeout": 30}, pool_size=20, max_overflow=20, pool_timeout=120
    )
    event.listen(engine.sync_engine, "connect", _sqlite_pragmas)
    return engine


def _sqlite_pragmas(connection: sqlite3.Connection, _record: Any) -> None:
    cursor = connection.cursor()
    # WAL lets readers (the CLI) work while the daemon writes; NORMAL sync is durable under WAL
    # except for the last transactions on power loss, never corrupting.
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA synchronous=NORMAL")
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.execute("PRAGMA busy_timeout=30000")
    cursor.close()


def alembic_config() -> Config:
    """Alembic's config, pointing at the migrations shipped inside the package."""
    from alembic.config import Config

    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS_DIR))
    return config


async def schema_problem(engine: AsyncEngine) -> str | None:
    """Why this code cannot use the database's schema as it is (none yet, older, newer), or
    None when it is at head. Commands that only read check this instead of migrating, so that
    no command but ``run``, ``once`` and ``db upgrade`` changes a schema under a running
    daemon."""
    if await stored_revisions(engine) == {SCHEMA_HEAD}:
        return None
    from alembic.runtime.migration import MigrationContext
    from alembic.script import ScriptDirectory

    def revisions(connection: Connection) -> tuple[set[str], set[str]]:
        current = set(MigrationContext.configure(connection).get_current_heads())
        heads = set(ScriptDirectory.from_config(alembic_config()).get_heads())
        return current, heads

    async with engine.connect() as connection:
        current, heads = await connection.run_sync(revisions)
    if current == heads:
        return None
    if not current:
        return "the database has no schema yet: run `monitor db upgrade` (or `monitor run`)"
    shown, expected = ", ".join(sorted(current)), ", ".join(sorted(heads))
    script = ScriptDirectory.from_config(alembic_config())
    if any(script.get_revision(revision) is None for revision in current):
        return (
            f"the database schema ({shown}) is newer than this monitor's ({expected}): "
            "upgrade monitor"
        )
    return (
        f"the database schema ({shown}) is older than this monitor's ({expected}): "
        "run `monitor db upgrade` (the daemon does it at start)"
    )


async def upgrade_schema(engine: AsyncEngine) -> None:
    """Apply every migration up to head on ``engine``'s database."""
    try:
        if await stored_revisions(engine) == {SCHEMA_HEAD}:
            return
    except (SQLAlchemyError, OSError) as error:
        shown = redact_url(str(engine.url))
        raise DatabaseError(redact(f"cannot migrate the database at {shown}: {error}")) from error
    from alembic import command

    def run(connection: Connection) -> None:
        if connection.dialect.name == "postgresql":
            # Replicas starting together migrate one at a time; the others then find the
            # schema at head. The lock ends with this transaction.
            connection.execute(text("SELECT pg_advisory_xact_lock(:key)"), {"key": MIGRATION_LOCK})
        config = alembic_config()
        config.attributes["connection"] = connection
        command.upgrade(config, "head")

    try:
        async with engine.begin() as connection:
            await connection.run_sync(run)
    except (SQLAlchemyError, OSError) as error:
        raise DatabaseError(
            redact(f"cannot migrate the database at {redact_url(str(engine.url))}: {error}")
        ) from error


async def stored_revisions(engine: AsyncEngine) -> set[str]:
    """The revisions the database's schema is at, as Alembic records them; none if it has no
    schema yet."""
    async with engine.connect() as connection:
        try:
            rows = await connection.execute(text("SELECT version_num FROM alembic_version"))
        except DBAPIError as error:
            if _no_such_table(error):
                return set()
            raise
        return {row[0] for row in rows}


def _no_such_table(error: DBAPIError) -> bool:
    message = str(error.orig).lower()
    return "no such table" in message or "does not exist" in message


def open_read_only_engine(database_url: str, *, connect_seconds: float = 3.0) -> AsyncEngine:
    """An engine that reads an existing database and never creates, migrates or writes one: a
    SQLite file is opened read-only (a missing file is a DatabaseError, not a new empty one), and
    a PostgreSQL server that does not answer within ``connect_seconds`` is given up on."""
    url = make_url(database_url)
    if url.get_backend_name() != "sqlite":
        return create_async_engine(url, connect_args={"timeout": connect_seconds})
    if not url.database or url.database == ":memory:":
        raise DatabaseError("an in-memory SQLite database holds nothing to read")
    path = Path(url.database).resolve()
    if not path.is_file():
        raise DatabaseError(f"there is no database at {path} yet")
    reading = url.set(database=f"file:{path}", query={"mode": "ro", "uri": "true"})
    return create_async_engine(reading, connect_args={"timeout": connect_seconds})
