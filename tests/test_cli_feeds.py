"""``monitor feeds import`` and ``monitor feeds export`` as a user runs them: real processes on
real OPML files, what they print, what they leave in the database."""

from __future__ import annotations

import asyncio
import os
import pty
import re
import sys
from dataclasses import dataclass
from pathlib import Path

import listparser
from sqlalchemy import select

from monitor.store.engine import open_engine, upgrade_schema
from monitor.store.tables import FeedRow
from tests.conftest import FIXTURES, ROOT, write_config
from tests.test_cli import monitor

FEEDS_OPML = FIXTURES / "feeds.opml"
SECRET = "SECRET123"


@dataclass(frozen=True)
class Database:
    """A new SQLite database at the current schema, and the arguments of ``monitor feeds``
    on it (migrated in this process: every ``monitor`` process costs seconds)."""

    url: str
    feeds: tuple[str, ...]

    @classmethod
    async def create(cls, folder: Path, name: str) -> Database:
        url = f"sqlite+aiosqlite:///{folder / name}.db"
        config = write_config(folder / f"{name}.toml", database_url=url, feeds=[])
        engine = open_engine(url)
        try:
            await upgrade_schema(engine)
        finally:
            await engine.dispose()
        return cls(url, ("--config", str(config), "feeds"))

    async def stored(self) -> list[tuple[str, str | None]]:
        """Each stored feed's URL and name, in the order they were added."""
        engine = open_engine(self.url)
        try:
            async with engine.connect() as connection:
                rows = await connection.execute(
                    select(FeedRow.url, FeedRow.name).order_by(FeedRow.id)
                )
                return [(url, name) for url, name in rows.all()]
        finally:
            await engine.dispose()


async def test_an_export_imports_into_a_fresh_database_as_it_was(tmp_path: Path) -> None:
    first = await Database.create(tmp_path, "first")
    status, _, err = await monitor(
        *first.feeds, "import", str(FEEDS_OPML), "--skip-invalid", cwd=tmp_path
    )
    assert status == 0, err
    status, exported, err = await monitor(*first.feeds, "export", cwd=tmp_path)
    assert status == 0, err
    parsed = listparser.parse(exported.encode())
    assert not parsed.bozo, parsed.bozo_exception
    assert f"courier.xml?api_key={SECRET}" in exported  # an export is meant to be imported
    (tmp_path / "exported.opml").write_text(exported, encoding="utf-8")

    second = await Database.create(tmp_path, "second")
    status, out, err = await monitor(
        *second.feeds, "import", str(tmp_path / "exported.opml"), cwd=tmp_path
    )

    assert status == 0, err
    assert out.strip() == (
        "imported: 2 feed(s) added, 0 already there, 0 bad URL(s), 0 listed more than once"
    )
    assert SECRET not in out + err
    assert (
        await second.stored()
        == await first.stored()
        == [
            ("http://127.0.0.1:9/wire.xml", "Wire"),  # the nested outlines, each once
            (f"http://127.0.0.1:9/courier.xml?api_key={SECRET}", "Courier"),
        ]
    )
    status, again, _ = await monitor(*second.feeds, "export", cwd=tmp_path)
    assert status == 0
    assert without_date(again) == without_date(exported)


def without_date(document: str) -> str:
    return re.sub("<dateCreated>[^<]*</dateCreated>", "", document)


async def test_a_file_with_a_bad_url_is_refused_whole_unless_told_to_skip(tmp_path: Path) -> None:
    database = await Database.create(tmp_path, "monitor")
    base = database.feeds

    status, out, err = await monitor(*base, "import", str(FEEDS_OPML), cwd=tmp_path)

    assert status == 1
    assert out.splitlines() == [
        "bad: ftp://example.org/feed: "
        "'ftp://example.org/feed': expected an http:// or https:// URL",
        "repeated: http://127.0.0.1:9/wire.xml: listed 2 times in folders News, Elsewhere",
        "repeated: http://127.0.0.1:9/courier.xml?api_key=***: "
        "listed 2 times in folder News/Middle East",
        "NOT imported: 2 feed(s) added, 0 already there, 1 bad URL(s), "
        "2 listed more than once, from 3 folder(s)",
    ]
    assert "nothing was imported" in err
    assert SECRET not in out + err
    assert await database.stored() == []  # nothing half-imported

    status, out, err = await monitor(
        *base, "import", str(FEEDS_OPML), "--skip-invalid", cwd=tmp_path
    )
    assert status == 0, err
    assert out.splitlines()[-1] == (
        "imported: 2 feed(s) added, 0 already there, 1 bad URL(s), "
        "2 listed more than once, from 3 folder(s)"
    )
    assert SECRET not in out + err
    assert [url for url, _ in await database.stored()] == [
        "http://127.0.0.1:9/wire.xml",
        f"http://127.0.0.1:9/courier.xml?api_key={SECRET}",
    ]

    status, out, _ = await monitor(*base, "import", str(FEEDS_OPML), "--skip-invalid", cwd=tmp_path)
    assert status == 0
    assert "already there: http://127.0.0.1:9/courier.xml?api_key=***" in out
    assert out.splitlines()[-1].startswith("imported: 0 feed(s) added, 2 already there")


async def test_a_file_that_is_not_opml_changes_nothing(tmp_path: Path) -> None:
    database = await Database.create(tmp_path, "monitor")
    base = database.feeds
    (tmp_path / "page.html").write_text("<html><body>no feeds</body></html>", encoding="utf-8")

    for file in ("page.html", "missing.opml"):
        status, out, err = await monitor(*base, "import", file, cwd=tmp_path)
        assert status == 1
        assert out == ""
        assert err.startswith(("monitor: not an OPML", "monitor: cannot read missing.opml"))
    assert await database.stored() == []


async def test_a_secret_in_a_bad_or_repeated_url_is_not_printed(tmp_path: Path) -> None:
    database = await Database.create(tmp_path, "monitor")
    base = database.feeds
    (tmp_path / "keys.opml").write_text(
        '<opml version="2.0"><body>'
        f'<outline text="a" xmlUrl="https://a.example/rss?api_key={SECRET}&amp;x=1"/>'
        f'<outline text="a" xmlUrl="https://a.example/rss?api_key={SECRET}&amp;x=1"/>'
        f'<outline text="b" xmlUrl="gopher://b.example/?token={SECRET}"/>'
        "</body></opml>",
        encoding="utf-8",
    )

    status, out, err = await monitor(*base, "import", "keys.opml", cwd=tmp_path)

    assert status == 1
    assert "repeated: https://a.example/rss?api_key=***&x=***: listed 2 times" in out
    assert "bad: gopher://b.example/?token=***" in out
    assert SECRET not in out + err


async def run_on_a_terminal(
    *args: str, cwd: Path, stdout_piped: bool = False
) -> tuple[int, str, str]:
    """``python -m monitor ARGS`` with its stderr (and its stdout unless ``stdout_piped``) on a
    pseudo-terminal; returns the exit status, what the terminal showed and what the pipe got."""
    leader, follower = pty.openpty()
    process = await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "monitor",
        *args,
        cwd=cwd,
        env={**os.environ, "PYTHONPATH": str(ROOT)},
        stdin=asyncio.subprocess.DEVNULL,
        stdout=asyncio.subprocess.PIPE if stdout_piped else follower,
        stderr=follower,
    )
    os.close(follower)

    def read_all() -> bytes:
        chunks = []
        while True:
            try:
                chunk = os.read(leader, 4096)
            except OSError:  # EIO: the process closed its side
                return b"".join(chunks)
            if not chunk:
                return b"".join(chunks)
            chunks.append(chunk)

    try:
        terminal = asyncio.ensure_future(asyncio.to_thread(read_all))  # read as it is written
        piped, _ = await asyncio.wait_for(process.communicate(), 60)
        shown = await asyncio.wait_for(terminal, 60)
    finally:
        os.close(leader)
    assert process.returncode is not None
    return process.returncode, shown.decode(), (piped or b"").decode()


async def test_the_progress_bar_is_drawn_on_a_terminal_only(tmp_path: Path) -> None:
    database = await Database.create(tmp_path, "monitor")
    base = database.feeds
    outlines = "".join(
        f'<outline text="f{n}" xmlUrl="https://outlet{n}.example/rss"/>' for n in range(1200)
    )
    (tmp_path / "many.opml").write_text(
        f'<opml version="2.0"><body>{outlines}</body></opml>', encoding="utf-8"
    )
    (tmp_path / "more.opml").write_text(
        f'<opml version="2.0"><body>{outlines.replace("outlet", "other")}</body></opml>',
        encoding="utf-8",
    )

    status, out, err = await monitor(*base, "import", "many.opml", cwd=tmp_path)
    assert status == 0, err
    assert (
        out
        == "imported: 1200 feed(s) added, 0 already there, 0 bad URL(s), 0 listed more than once\n"
    )
    assert err == ""  # no bar in a pipe

    status, shown, _ = await run_on_a_terminal(*base, "import", "more.opml", cwd=tmp_path)
    assert status == 0, shown
    assert "\r[############" in shown
    assert "] 1200/1200 feeds\r\n" in shown  # the bar ends its line before the report
    assert shown.rstrip().endswith(
        "imported: 1200 feed(s) added, 0 already there, 0 bad URL(s), 0 listed more than once"
    )

    status, shown, piped = await run_on_a_terminal(
        *base, "import", "more.opml", cwd=tmp_path, stdout_piped=True
    )
    assert status == 0, shown
    assert shown == ""  # the report goes to a pipe: no bar either
    assert piped.startswith("already there: https://other0.example/rss\n")
