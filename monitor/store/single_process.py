"""SQLite serves one daemon at a time: a second process on the same file is refused, plainly.

The lock is an advisory ``flock`` on a file beside the database, released by the kernel when
the process ends, however it ends (kill -9 included), so it never goes stale.
"""

from __future__ import annotations

import fcntl
import os
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from sqlalchemy.engine import make_url

from monitor.store.engine import DatabaseError


@contextmanager
def sole_sqlite_user(database_url: str) -> Iterator[None]:
    """Hold the SQLite file for this process; a no-op for PostgreSQL and in-memory SQLite."""
    url = make_url(database_url)
    if url.get_backend_name() != "sqlite" or not url.database or url.database == ":memory:":
        yield
        return
    path = Path(url.database)
    path.parent.mkdir(parents=True, exist_ok=True)
    descriptor = os.open(f"{path}.lock", os.O_RDWR | os.O_CREAT, 0o644)
    try:
        try:
            fcntl.flock(descriptor, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            raise DatabaseError(
                f"another monitor process is already running on {path}: SQLite serves one "
                "process at a time. Stop the other one, or use PostgreSQL "
                "(MONITOR_DATABASE_URL=postgresql+asyncpg://…) to run several replicas."
            ) from None
        yield
    finally:
        os.close(descriptor)
