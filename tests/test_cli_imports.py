"""Commands that need no database or network start without importing those stacks."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from tests.conftest import DEFAULT_CONFIG, ROOT, write_config

HEAVY = ("sqlalchemy", "alembic", "aiohttp", "trafilatura", "asyncpg", "aiosqlite")

# Runs one command in a fresh interpreter, then prints which heavy packages it had imported.
PROBE = """
import json, sys
from monitor.cli.main import main
try:
    status = main(sys.argv[1:])
except SystemExit as stop:
    status = stop.code
heavy = sorted({name.split(".")[0] for name in sys.modules} & set(json.loads(HEAVY)))
print(json.dumps({"status": status, "heavy": heavy}), file=sys.stderr)
"""


def imported_by(
    *args: str,
    stdin: str = "",
    env: dict[str, str] | None = None,
    packages: tuple[str, ...] = HEAVY,
) -> tuple[int, list[str]]:
    """The exit status of ``monitor ARGS`` and which of ``packages`` it imported."""
    finished = subprocess.run(
        [sys.executable, "-c", PROBE.replace("HEAVY", repr(json.dumps(packages))), *args],
        input=stdin,
        capture_output=True,
        text=True,
        cwd=ROOT,
        env={**os.environ, **(env or {})},
        timeout=60,
        check=False,
    )
    report = json.loads(finished.stderr.strip().splitlines()[-1])
    return report["status"], report["heavy"]


@pytest.mark.parametrize(
    ("args", "stdin"),
    [
        (["--help"], ""),
        (["feeds", "--help"], ""),
        (["--config", str(DEFAULT_CONFIG), "topics", "check"], ""),
        (["--config", str(DEFAULT_CONFIG), "classify"], '{"title": "Iraq and US hold talks"}\n'),
    ],
    ids=["help", "feeds-help", "topics-check", "classify"],
)
def test_offline_commands_import_no_database_or_http_stack(
    args: list[str], stdin: str, tmp_path: Path
) -> None:
    """With no database yet, ``topics check`` and ``classify`` (which read stored feedback when
    there is one) load nothing heavy, and create no database."""
    database = tmp_path / "monitor.db"
    status, heavy = imported_by(
        *args, stdin=stdin, env={"MONITOR_DATABASE_URL": f"sqlite+aiosqlite:///{database}"}
    )
    assert not database.exists()
    assert status == 0
    assert heavy == []


def test_a_database_command_does_load_the_database_stack(tmp_path: Path) -> None:
    """The probe itself can see an import: ``db upgrade`` needs SQLAlchemy and loads it."""
    database = f"sqlite+aiosqlite:///{tmp_path / 'monitor.db'}"
    status, heavy = imported_by(
        "--config", str(DEFAULT_CONFIG), "db", "upgrade", env={"MONITOR_DATABASE_URL": database}
    )
    assert status == 0
    assert "sqlalchemy" in heavy


def test_a_poll_that_finds_nothing_new_loads_no_migrations_or_extractor(
    tmp_path: Path,
) -> None:
    """``monitor once`` on a database at the current schema, whose feed brings no entry, loads
    neither Alembic nor what only new articles need (trafilatura, datasketch and its SciPy):
    seconds of start-up that a warm poll does without."""
    database = f"sqlite+aiosqlite:///{tmp_path / 'monitor.db'}"
    config = write_config(
        tmp_path / "monitor.toml", database_url=database, feeds=["http://127.0.0.1:9/feed.xml"]
    )
    assert imported_by("--config", str(config), "db", "upgrade")[0] == 0
    status, loaded = imported_by(
        "--config",
        str(config),
        "once",
        packages=("alembic", "trafilatura", "datasketch", "scipy"),
    )
    assert status == 0
    assert loaded == []
