"""The ``monitor`` command as a user runs it: real processes, exit codes, output."""

from __future__ import annotations

import asyncio
import json
import os
import signal
import sys
import time
from pathlib import Path
from typing import Any

import pytest
from alembic.script import ScriptDirectory

from monitor.cli.main import main
from monitor.store.engine import alembic_config
from tests.conftest import DEFAULT_CONFIG, ROOT, write_config
from tests.test_pipeline import serve_seed
from tests.web import Receiver, Site

COMMANDS = [
    [],
    ["run"],
    ["once"],
    ["classify"],
    ["extract"],
    ["feeds"],
    ["feeds", "list"],
    ["feeds", "add"],
    ["feeds", "remove"],
    ["feeds", "import"],
    ["feeds", "export"],
    ["alerts"],
    ["alerts", "list"],
    ["stories"],
    ["stories", "list"],
    ["stories", "show"],
    ["stories", "split"],
    ["stories", "merge"],
    ["topics"],
    ["topics", "check"],
    ["db"],
    ["db", "upgrade"],
]

# The newest migration: what `db upgrade` brings a database to.
HEAD = ScriptDirectory.from_config(alembic_config()).get_current_head()


async def monitor(
    *args: str,
    cwd: Path,
    env: dict[str, str] | None = None,
    stdin: bytes | None = None,
    seconds: float = 60,
) -> tuple[int, str, str]:
    """Run ``python -m monitor ARGS`` without blocking the local servers of the test."""
    process = await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "monitor",
        *args,
        cwd=cwd,
        env={**os.environ, "PYTHONPATH": str(ROOT), **(env or {})},
        stdin=asyncio.subprocess.PIPE,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
    )
    out, err = await asyncio.wait_for(process.communicate(stdin), seconds)
    assert process.returncode is not None
    return process.returncode, out.decode(), err.decode()


async def start_daemon(
    config: Path,
    cwd: Path,
    *,
    env: dict[str, str] | None = None,
    output: int = asyncio.subprocess.DEVNULL,
) -> asyncio.subprocess.Process:
    """``monitor run`` as a real process, not waited for."""
    return await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "monitor",
        "--config",
        str(config),
        "run",
        cwd=cwd,
        env={**os.environ, "PYTHONPATH": str(ROOT), **(env or {})},
        stdout=output,
        stderr=output,
    )


@pytest.mark.parametrize("command", COMMANDS, ids=lambda c: " ".join(c) or "monitor")
def test_every_command_has_help(command: list[str], capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as exit_status:
        main([*command, "--help"])
    assert exit_status.value.code == 0
    assert capsys.readouterr().out.startswith("usage: monitor")


async def test_once_alerts_and_prints_a_summary(
    site: Site, receiver: Receiver, fixtures_dir: Path, tmp_path: Path, sqlite_url: str
) -> None:
    config = write_config(
        tmp_path / "monitor.toml",
        database_url=sqlite_url,
        feeds=[serve_seed(site, fixtures_dir), site.url("/missing.xml")],
        webhook_url=receiver.url,
    )

    status, out, err = await monitor("--config", str(config), "once", cwd=tmp_path)

    assert status == 0, err
    assert out.strip() == (
        "feeds polled: 2 (1 failed), new articles: 1, matches: 1, alerts sent: 1, failed: 0"
    )
    assert len(receiver.deliveries) == 1
    failure = next(json.loads(line) for line in err.splitlines() if '"feed check failed"' in line)
    assert failure["feed_url"] == site.url("/missing.xml")
    assert failure["error"] == "HTTP 404 Not Found"

    status, out, _ = await monitor("--config", str(config), "alerts", "list", cwd=tmp_path)
    assert status == 0
    assert "delivered" in out
    assert "U.S. initiates talks with Iraq" in out

    status, out, _ = await monitor("--config", str(config), "feeds", "list", cwd=tmp_path)
    assert status == 0
    assert "failing" in out
    assert "HTTP 404 Not Found" in out


async def test_the_config_file_comes_from_monitor_config(tmp_path: Path, sqlite_url: str) -> None:
    config = write_config(tmp_path / "elsewhere.toml", database_url=sqlite_url, feeds=[])
    status, out, err = await monitor("once", cwd=tmp_path, env={"MONITOR_CONFIG": str(config)})
    assert status == 0, err
    assert out.startswith("feeds polled: 0")


@pytest.mark.parametrize(
    ("env", "toml", "expected"),
    [
        (
            {"MONITOR_POLL__INTERVAL_SECONDS": "soon"},
            "",
            "poll.interval_seconds = 'soon': Input should be a valid number",
        ),
        ({"MONITOR_DATABASE_URL": "mysql://db"}, "", "database_url = 'mysql://db': expected"),
        ({"MONITOR_WEBHOOK_URL": "ftp://hooks"}, "", "webhook_url = 'ftp://hooks': expected"),
        ({"MONITOR_WEBHOOK_SECRET": "hunter2"}, "", "webhook_secret = ***: expected a secret"),
        (
            {},
            '[[feeds]]\nurl = "https://a.example/rss"\nnmae = "A"\n',
            "feeds.0.nmae = 'A': unknown key",
        ),
        (
            {},
            '[[topics]]\nname = "empty"\n[topics.terms]\nus = []\n[[topics.rules]]\nall = ["us"]\n',
            "topics.1.terms = {'us': []}: term list 'us' is empty",
        ),
        ({}, "database_url = \n", "is not valid TOML"),
    ],
)
async def test_bad_config_exits_2_naming_the_key(
    tmp_path: Path, sqlite_url: str, env: dict[str, str], toml: str, expected: str
) -> None:
    config = write_config(tmp_path / "monitor.toml", database_url=sqlite_url, feeds=[])
    if toml:
        config.write_text(config.read_text() + toml)
    status, out, err = await monitor("--config", str(config), "once", cwd=tmp_path, env=env)
    assert status == 2
    assert expected in err
    assert "hunter2" not in err + out


async def test_a_missing_config_file_exits_2(tmp_path: Path) -> None:
    status, _, err = await monitor("--config", "nowhere.toml", "once", cwd=tmp_path)
    assert status == 2
    assert "config file not found: nowhere.toml" in err


async def test_run_stops_cleanly_on_sigterm(
    site: Site, receiver: Receiver, fixtures_dir: Path, tmp_path: Path, sqlite_url: str
) -> None:
    config = write_config(
        tmp_path / "monitor.toml",
        database_url=sqlite_url,
        feeds=[serve_seed(site, fixtures_dir)],
        webhook_url=receiver.url,
    )
    process = await start_daemon(config, tmp_path, output=asyncio.subprocess.PIPE)
    await receiver.wait_for(1, seconds=30)  # the daemon polled and delivered
    started = time.monotonic()
    process.send_signal(signal.SIGTERM)
    _, err = await asyncio.wait_for(process.communicate(), 15)
    assert process.returncode == 0, err.decode()
    assert time.monotonic() - started < 10
    events = [
        json.loads(line)["event"] for line in err.decode().splitlines() if line.startswith("{")
    ]
    assert "monitor started" in events
    assert events[-1] == "monitor stopped"


async def test_classify_reads_json_lines(tmp_path: Path, sqlite_url: str) -> None:
    config = write_config(tmp_path / "monitor.toml", database_url=sqlite_url, feeds=[])
    lines = [
        {
            "id": "a",
            "title": "US and Iraq begin talks on ending coalition mission",
            "description": "The Higher Military Commission will set a timetable for US troops.",
        },
        {"id": "b", "title": "Heatwave grips southern Europe", "summary": "Wildfires spread."},
        {
            "title": "Iraq's parliament votes to expel US troops",
            "text": "The vote asks the government to end the presence of foreign forces.",
        },
        {"id": "d", "title": "Rockets hit near US embassy in Baghdad", "description": ""},
    ]
    stdin = "\n".join(json.dumps(line) for line in lines).encode() + b"\nnot json\n"
    status, out, err = await monitor("--config", str(config), "classify", cwd=tmp_path, stdin=stdin)
    results = [json.loads(line) for line in out.splitlines()]
    assert [(r["id"], r["match"], r["level"]) for r in results] == [
        ("a", True, "alert"),
        ("b", False, None),
        (3, True, "alert"),
        ("d", True, "digest"),
    ]
    assert "Higher Military Commission" in results[0]["terms"]
    assert "named talks" in results[0]["rules"]
    assert results[3]["rules"] == ["attacks", "relations"]
    assert (results[1]["score"], results[1]["terms"], results[1]["rules"]) == (0, [], [])
    assert status == 1  # one line was not JSON
    assert "line 5" in err


async def test_extract_prints_the_article(
    tmp_path: Path, sqlite_url: str, fixtures_dir: Path
) -> None:
    config = write_config(tmp_path / "monitor.toml", database_url=sqlite_url, feeds=[])
    status, out, err = await monitor(
        "--config",
        str(config),
        "extract",
        str(fixtures_dir / "seed-article.html"),
        "--url",
        "https://news.example/us-iraq",
        cwd=tmp_path,
    )
    assert status == 0, err
    page: dict[str, Any] = json.loads(out)
    assert (
        page["title"] == "U.S. initiates talks with Iraq on withdrawal of American troops "
        "from country"
    )
    assert page["language"] == "en"
    assert page["published_at"] == "2024-01-26T00:00:00Z"
    assert "Higher Military Commission" in page["summary"]
    assert "Weather forecast" not in page["text"]  # the sidebar is not the article


async def test_extract_reports_a_missing_file(tmp_path: Path, sqlite_url: str) -> None:
    config = write_config(tmp_path / "monitor.toml", database_url=sqlite_url, feeds=[])
    status, _, err = await monitor("--config", str(config), "extract", "nope.html", cwd=tmp_path)
    assert status == 1
    assert "cannot extract nope.html" in err


async def test_feeds_add_list_remove(tmp_path: Path, sqlite_url: str) -> None:
    config = write_config(
        tmp_path / "monitor.toml", database_url=sqlite_url, feeds=["https://configured.example/rss"]
    )
    base = ("--config", str(config), "feeds")
    assert (await monitor(*base[:2], "db", "upgrade", cwd=tmp_path))[0] == 0
    assert (await monitor(*base, "add", "https://added.example/rss", cwd=tmp_path))[0] == 0
    status, out, _ = await monitor(*base, "list", cwd=tmp_path)
    assert status == 0
    assert "https://added.example/rss" in out
    assert "https://configured.example/rss" not in out  # config feeds come in with run/once
    status, out, _ = await monitor(*base, "remove", "https://added.example/rss", cwd=tmp_path)
    assert (status, out.strip()) == (0, "removed https://added.example/rss")
    status, _, err = await monitor(*base, "remove", "https://added.example/rss", cwd=tmp_path)
    assert status == 1
    assert "no feed https://added.example/rss" in err


async def test_db_upgrade_creates_the_schema(tmp_path: Path, sqlite_url: str) -> None:
    config = write_config(tmp_path / "monitor.toml", database_url=sqlite_url, feeds=[])
    status, out, _ = await monitor("--config", str(config), "db", "upgrade", cwd=tmp_path)
    assert (status, out.strip()) == (0, "database schema is up to date")
    assert (tmp_path / "monitor.db").exists()


async def test_an_unreachable_database_is_fatal_with_a_clear_message(tmp_path: Path) -> None:
    config = write_config(
        tmp_path / "monitor.toml",
        feeds=[],
        database_url="postgresql+asyncpg://nobody:pw@127.0.0.1:1/none",
    )
    status, _, err = await monitor("--config", str(config), "once", cwd=tmp_path)
    assert status == 1
    assert "cannot migrate the database" in err
    assert "pw@" not in err


def test_topics_check_explains_the_default_topic(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["--config", str(DEFAULT_CONFIG), "topics", "check"]) == 0
    out = capsys.readouterr().out
    assert out.startswith("us-iraq-security-talks: US–Iraq security talks")
    assert "ALERT when" in out
    assert "DIGEST when" in out
    assert out.rstrip().endswith("1 topic(s) OK")


def test_topics_check_names_an_unknown_topic(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["--config", str(DEFAULT_CONFIG), "topics", "check", "weather"]) == 2
    assert "no topic named 'weather'; known topics: us-iraq-security-talks" in (
        capsys.readouterr().err
    )


async def test_a_second_process_on_the_same_sqlite_file_is_refused(
    site: Site, receiver: Receiver, fixtures_dir: Path, tmp_path: Path, sqlite_url: str
) -> None:
    config = write_config(
        tmp_path / "monitor.toml",
        database_url=sqlite_url,
        feeds=[serve_seed(site, fixtures_dir)],
        webhook_url=receiver.url,
    )
    first = await start_daemon(config, tmp_path)
    try:
        await receiver.wait_for(1, seconds=30)  # the first daemon is up and working
        for command in ("run", "once"):
            status, _, err = await monitor("--config", str(config), command, cwd=tmp_path)
            assert status == 1
            assert "another monitor process is already running on" in err
            assert "use PostgreSQL" in err
    finally:
        first.send_signal(signal.SIGTERM)
        await asyncio.wait_for(first.wait(), 15)
    status, _, _ = await monitor("--config", str(config), "once", cwd=tmp_path)
    assert status == 0  # the lock went with the first process


async def test_db_prune_reports_what_it_removed(tmp_path: Path, sqlite_url: str) -> None:
    config = write_config(tmp_path / "monitor.toml", database_url=sqlite_url, feeds=[])
    assert (await monitor("--config", str(config), "db", "upgrade", cwd=tmp_path))[0] == 0
    status, out, err = await monitor("--config", str(config), "db", "prune", cwd=tmp_path)
    assert status == 0, err
    assert out.strip() == "emptied 0 article text(s), deleted 0 delivered alert(s)"


async def test_a_read_command_with_another_config_leaves_the_feeds_alone(
    tmp_path: Path, sqlite_url: str
) -> None:
    production = write_config(
        tmp_path / "monitor.toml", database_url=sqlite_url, feeds=["http://127.0.0.1:9/a.xml"]
    )
    other = write_config(
        tmp_path / "other.toml", database_url=sqlite_url, feeds=["http://127.0.0.1:9/b.xml"]
    )
    status, _, err = await monitor("--config", str(production), "once", cwd=tmp_path)
    assert status == 0, err
    for command in (["webhooks", "list"], ["db", "prune"], ["alerts", "list"], ["feeds", "list"]):
        status, out, err = await monitor("--config", str(other), *command, cwd=tmp_path)
        assert status == 0, err
    [row] = [line for line in out.splitlines() if "a.xml" in line]
    assert row.startswith("failing")  # still polled: not disabled by the other config
    assert "b.xml" not in out


async def test_a_read_command_refuses_an_older_schema_and_leaves_it(
    tmp_path: Path, sqlite_url: str
) -> None:
    from alembic import command
    from sqlalchemy import text

    from monitor.store.engine import alembic_config, open_engine

    engine = open_engine(sqlite_url)

    async def schema_version() -> str:
        async with engine.connect() as connection:
            return str(
                (
                    await connection.execute(text("SELECT version_num FROM alembic_version"))
                ).scalar_one()
            )

    def upgrade_to_0005(connection: Any) -> None:
        config = alembic_config()
        config.attributes["connection"] = connection
        command.upgrade(config, "0005")

    async with engine.begin() as connection:
        await connection.run_sync(upgrade_to_0005)
    config = write_config(tmp_path / "monitor.toml", database_url=sqlite_url, feeds=[])
    try:
        for command_line in (["alerts", "list"], ["feeds", "list"], ["stories", "list"]):
            status, out, err = await monitor("--config", str(config), *command_line, cwd=tmp_path)
            assert (status, out) == (1, ""), err
            assert f"the database schema (0005) is older than this monitor's ({HEAD})" in err
            assert "monitor db upgrade" in err
            assert await schema_version() == "0005"
        status, _, err = await monitor("--config", str(config), "db", "upgrade", cwd=tmp_path)
        assert status == 0, err
        assert await schema_version() == HEAD
    finally:
        await engine.dispose()
