"""Crash safety with real processes: ``monitor run`` killed with SIGKILL, at random moments and
at named points, and started again; afterwards every story has reached the receiver, every
repeat under the id of its first delivery, and the database shows every alert delivered.

The named points are reached without any hook in the daemon: the test blocks it from outside,
at a natural point (an article page that does not answer, a database lock held by another
connection, a receiver that holds its answer), and kills it there.
"""

from __future__ import annotations

import asyncio
import random
import sqlite3
import time
from collections.abc import AsyncIterator, Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

import asyncpg
import pytest
from aiohttp import web
from sqlalchemy.engine import make_url

from tests.crash import (
    Daemon,
    FlakyReceiver,
    Newsroom,
    Story,
    assert_each_story_arrived_under_one_id,
    blocking_page,
    crash_config,
    eventually,
    outbox,
    page,
    plain_page,
    story_path,
)
from tests.web import Site, rss


@pytest.fixture
async def hooks() -> AsyncIterator[FlakyReceiver]:
    """A receiver that records every delivery; each test sets how it misbehaves."""
    receiver = await FlakyReceiver().start()
    yield receiver
    if receiver.hold is not None:
        receiver.hold.set()
    await receiver.close()


@pytest.fixture
def daemons() -> Iterator[Callable[[Path], Daemon]]:
    """Makes daemons for a config; any still running at the end of the test is killed."""
    made: list[Daemon] = []

    def make(config: Path) -> Daemon:
        made.append(Daemon(config))
        return made[-1]

    yield make
    for daemon in made:
        if daemon.alive and daemon.process is not None:
            daemon.process.kill()


async def finish(daemon: Daemon, config: Path, receiver: FlakyReceiver, paths: set[str]) -> None:
    """Start the daemon once more, let it deliver everything, stop it as an operator would."""
    await daemon.start()

    async def started() -> bool:
        return daemon.logged("monitor started")

    async def everything_delivered() -> bool:
        if {story_path(d.payload["url"]) for d in receiver.deliveries} != paths:
            return False
        async with outbox(config) as store:
            alerts = await store.list_alerts(limit=10 * len(paths) + 10)
        return len(alerts) == len(paths) and all(a.status == "delivered" for a in alerts)

    await eventually(started, 30, "the daemon did not start", daemon)
    await eventually(everything_delivered, 60, "not every story was delivered", daemon)
    assert await daemon.stop() == 0, daemon.log_tail()


# Random moments.


@dataclass
class Kill:
    """Where the daemon was when it was killed."""

    starting: bool  # before "monitor started": importing, migrating, syncing the config
    pages_in_flight: int
    posts_in_flight: int
    pending_alerts: int


async def crash_loop(
    site: Site,
    receiver: FlakyReceiver,
    daemons: Callable[[Path], Daemon],
    folder: Path,
    database_url: str,
    *,
    stories: int,
    kills: int,
    per_fetch: int,
    seed: int,
) -> list[Kill]:
    rng = random.Random(seed)
    newsroom = Newsroom(site, stories, per_fetch=per_fetch, rng=rng)
    receiver.fail_rate, receiver.max_delay, receiver.rng = 0.2, 0.2, rng
    config = crash_config(
        folder, database_url=database_url, feeds=newsroom.feed_urls, receiver=receiver
    )
    daemon = daemons(config)
    done: list[Kill] = []
    for _ in range(kills):
        requests_before = len(site.requests) + len(receiver.deliveries)
        await daemon.start()
        # One kill in four lands in the start-up (imports, migrations, config sync); the others
        # once the daemon has begun to fetch or send.
        starting = rng.random() < 0.25
        if starting:
            await asyncio.sleep(rng.uniform(0, 2.5))
        else:

            async def working(before: int = requests_before) -> bool:
                return len(site.requests) + len(receiver.deliveries) > before

            await eventually(working, 30, "the daemon did no work", daemon)
            await asyncio.sleep(rng.uniform(0, 1.5))
        pages, posts = newsroom.pages_in_flight, receiver.in_flight
        assert daemon.alive, f"the daemon exited by itself:\n{daemon.log_tail()}"
        await daemon.kill()
        async with outbox(config) as store:
            pending = len(await store.list_alerts(status="pending", limit=1000))
        done.append(Kill(not daemon.logged("monitor started"), pages, posts, pending))
    await finish(daemon, config, receiver, newsroom.paths)
    await assert_each_story_arrived_under_one_id(config, receiver, newsroom.paths)
    print(
        f"\n{len(done)} kills over {daemon.runs} runs: "
        f"{sum(k.starting for k in done)} while starting, "
        f"{sum(k.pages_in_flight > 0 for k in done)} with article pages in flight, "
        f"{sum(k.posts_in_flight > 0 for k in done)} with POSTs in flight, "
        f"{sum(k.pending_alerts > 0 for k in done)} with alerts pending; "
        f"{len(newsroom.paths)} stories, {len(receiver.deliveries)} deliveries, "
        f"{receiver.repeats_after_success()} of them sent again after a 200 answer, "
        f"each under its story's one id"
    )
    return done


async def test_killed_at_random_moments_no_story_is_lost_or_doubled(
    site: Site,
    hooks: FlakyReceiver,
    daemons: Callable[[Path], Daemon],
    tmp_path: Path,
    sqlite_url: str,
) -> None:
    await crash_loop(
        site, hooks, daemons, tmp_path, sqlite_url, stories=24, kills=5, per_fetch=3, seed=5
    )


@pytest.mark.slow
@pytest.mark.timeout(900)
async def test_killed_fifty_times_no_story_is_lost_or_doubled(
    site: Site,
    hooks: FlakyReceiver,
    daemons: Callable[[Path], Daemon],
    tmp_path: Path,
    database_url: str,
) -> None:
    kills = await crash_loop(
        site, hooks, daemons, tmp_path, database_url, stories=120, kills=50, per_fetch=1, seed=50
    )
    assert sum(k.pages_in_flight > 0 or k.posts_in_flight > 0 for k in kills) >= 10


# The named crash points.


async def test_killed_after_fetch_while_the_article_page_loads(
    site: Site,
    hooks: FlakyReceiver,
    daemons: Callable[[Path], Daemon],
    tmp_path: Path,
    database_url: str,
) -> None:
    story = Story.make(0)
    requested, answer = asyncio.Event(), asyncio.Event()
    site.handle(story.path, blocking_page(story, requested, answer))
    feed = site.serve("/feed.xml", rss([story.item(site)]))
    config = crash_config(tmp_path, database_url=database_url, feeds=[feed], receiver=hooks)
    daemon = daemons(config)
    await daemon.start()
    await asyncio.wait_for(requested.wait(), 30)

    await daemon.kill()

    async with outbox(config) as store:
        assert await store.count_articles() == 0
        assert await store.list_alerts() == []
    answer.set()
    await finish(daemon, config, hooks, {story.path})
    await assert_each_story_arrived_under_one_id(config, hooks, {story.path})
    assert len(hooks.deliveries) == 1  # nothing was sent before the crash: nothing twice


async def test_killed_before_commit_while_sqlite_is_locked(
    site: Site,
    hooks: FlakyReceiver,
    daemons: Callable[[Path], Daemon],
    tmp_path: Path,
    sqlite_url: str,
) -> None:
    """Another connection holds SQLite's write lock (BEGIN IMMEDIATE) from the moment the
    article page is served. The daemon extracts the page in milliseconds and then waits at the
    first INSERT of its one transaction: SQLite's busy timeout (30 s) makes it wait rather
    than fail, and the daemon's own one-writer lock does not see other connections at all. So
    a second later it can only be waiting there, with nothing of the story written."""
    story = Story.make(0)
    database = Path(make_url(sqlite_url).database or "")
    holder: list[sqlite3.Connection] = []
    locked = asyncio.Event()

    async def article(_request: web.Request) -> web.Response:
        connection = sqlite3.connect(database, isolation_level=None, timeout=5)
        connection.execute("BEGIN IMMEDIATE")
        holder.append(connection)
        locked.set()
        return page(story.title, *story.paragraphs())

    site.handle(story.path, article)
    feed = site.serve("/feed.xml", rss([story.item(site)]))
    config = crash_config(tmp_path, database_url=sqlite_url, feeds=[feed], receiver=hooks)
    daemon = daemons(config)
    await daemon.start()
    await asyncio.wait_for(locked.wait(), 30)
    await asyncio.sleep(1)
    [lock] = holder
    assert daemon.alive
    assert lock.execute("SELECT count(*) FROM articles").fetchone() == (0,)

    await daemon.kill()

    lock.execute("ROLLBACK")
    lock.close()
    site.handle(story.path, plain_page(story))
    await finish(daemon, config, hooks, {story.path})
    await assert_each_story_arrived_under_one_id(config, hooks, {story.path})
    assert len(hooks.deliveries) == 1


def asyncpg_dsn(database_url: str) -> str:
    url = make_url(database_url).set(drivername="postgresql")
    return url.render_as_string(hide_password=False)


@pytest.mark.postgres
async def test_killed_before_commit_while_postgres_waits_for_a_lock(
    site: Site,
    hooks: FlakyReceiver,
    daemons: Callable[[Path], Daemon],
    tmp_path: Path,
    postgres_url: str,
) -> None:
    """PostgreSQL shows who waits for what: the test locks the articles table against
    writes when the page is served, and kills the daemon once ``pg_stat_activity`` shows its
    INSERT waiting for that lock. Its server process then finds its client gone and rolls
    back."""
    story = Story.make(0)
    locker = await asyncpg.connect(asyncpg_dsn(postgres_url))
    watcher = await asyncpg.connect(asyncpg_dsn(postgres_url))
    locked = asyncio.Event()
    transaction = locker.transaction()

    async def article(_request: web.Request) -> web.Response:
        await transaction.start()
        await locker.execute("LOCK TABLE articles IN SHARE MODE")  # reads pass, writes wait
        locked.set()
        return page(story.title, *story.paragraphs())

    async def insert_waits() -> bool:
        waiting = await watcher.fetchval(
            "SELECT count(*) FROM pg_stat_activity WHERE datname = current_database() "
            "AND wait_event_type = 'Lock' AND query LIKE 'INSERT INTO articles %'"
        )
        return bool(waiting)

    try:
        site.handle(story.path, article)
        feed = site.serve("/feed.xml", rss([story.item(site)]))
        config = crash_config(tmp_path, database_url=postgres_url, feeds=[feed], receiver=hooks)
        daemon = daemons(config)
        await daemon.start()
        await asyncio.wait_for(locked.wait(), 30)
        await eventually(insert_waits, 10, "the daemon's INSERT never waited", daemon)

        await daemon.kill()

        await transaction.rollback()
        site.handle(story.path, plain_page(story))
        await finish(daemon, config, hooks, {story.path})
    finally:
        await locker.close()
        await watcher.close()
    await assert_each_story_arrived_under_one_id(config, hooks, {story.path})
    assert len(hooks.deliveries) == 1


async def test_killed_after_commit_before_the_send(
    site: Site,
    hooks: FlakyReceiver,
    daemons: Callable[[Path], Daemon],
    tmp_path: Path,
    database_url: str,
) -> None:
    """Entries are processed one at a time here, and the poll sends only when it is over (the
    delivery tick is an hour away): while the second story's page hangs, the first story's
    alert is committed and held back, not sent."""
    first, second = Story.make(0), Story.make(1)
    requested, answer = asyncio.Event(), asyncio.Event()
    site.handle(first.path, plain_page(first))
    site.handle(second.path, blocking_page(second, requested, answer))
    feed = site.serve("/feed.xml", rss([first.item(site), second.item(site)]))
    config = crash_config(
        tmp_path,
        database_url=database_url,
        feeds=[feed],
        receiver=hooks,
        poll={"article_concurrency": 1},
        delivery={"tick_seconds": 3600},
    )
    daemon = daemons(config)
    await daemon.start()
    await asyncio.wait_for(requested.wait(), 30)
    async with outbox(config) as store:
        [committed] = await store.list_alerts()
    assert (story_path(committed.url), committed.status, committed.attempts) == (
        first.path,
        "pending",
        0,
    )
    assert hooks.deliveries == []

    await daemon.kill()

    answer.set()
    await finish(daemon, config, hooks, {first.path, second.path})
    ids = await assert_each_story_arrived_under_one_id(config, hooks, {first.path, second.path})
    assert ids[first.path] == committed.id
    assert len(hooks.deliveries) == 2


async def test_killed_after_the_send_before_it_is_marked_delivered(
    site: Site,
    hooks: FlakyReceiver,
    daemons: Callable[[Path], Daemon],
    tmp_path: Path,
    database_url: str,
) -> None:
    """The receiver has the alert but holds its answer; the daemon dies waiting for it. The
    claim's lease runs out and the alert goes again, under the same id: the receiver can tell
    it is a repeat."""
    story = Story.make(0)
    site.handle(story.path, plain_page(story))
    feed = site.serve("/feed.xml", rss([story.item(site)]))
    hooks.hold = asyncio.Event()
    config = crash_config(tmp_path, database_url=database_url, feeds=[feed], receiver=hooks)
    daemon = daemons(config)
    await daemon.start()
    await asyncio.wait_for(hooks.holding.wait(), 30)

    await daemon.kill()

    async with outbox(config) as store:
        [sent] = await store.list_alerts()
    assert (sent.status, sent.attempts) == ("pending", 0)  # sent, but not known to be
    hooks.hold.set()
    await finish(daemon, config, hooks, {story.path})
    ids = await assert_each_story_arrived_under_one_id(config, hooks, {story.path})
    assert [d.headers["webhook-id"] for d in hooks.deliveries] == [sent.id, sent.id]
    assert ids[story.path] == sent.id


def write_lock_once_created(database: Path, table: str) -> sqlite3.Connection | None:
    """SQLite's write lock, taken by a connection of the test, if ``table`` exists yet."""
    if not database.exists():
        return None
    connection = sqlite3.connect(database, isolation_level=None, timeout=5)
    try:
        query = "SELECT count(*) FROM sqlite_master WHERE type = 'table' AND name = ?"
        if connection.execute(query, (table,)).fetchone() == (1,):
            connection.execute("BEGIN IMMEDIATE")
            return connection
    except sqlite3.OperationalError:
        pass  # the daemon is setting the file up: look again
    connection.close()
    return None


async def test_killed_right_after_the_first_migration_committed(
    site: Site,
    hooks: FlakyReceiver,
    daemons: Callable[[Path], Daemon],
    tmp_path: Path,
    sqlite_url: str,
) -> None:
    """The first start creates the schema in one transaction, so its first table becomes
    visible only when the whole migration has committed. The test takes SQLite's write lock at
    that moment, before the daemon writes anything else, and kills it there. The next start
    must find the schema complete and go on. (A kill in the middle of a migration is the
    PostgreSQL test below.)"""
    story = Story.make(0)
    site.handle(story.path, plain_page(story))
    feed = site.serve("/feed.xml", rss([story.item(site)]))
    config = crash_config(tmp_path, database_url=sqlite_url, feeds=[feed], receiver=hooks)
    database = Path(make_url(sqlite_url).database or "")
    daemon = daemons(config)
    await daemon.start()
    lock = None
    deadline = time.monotonic() + 30
    while lock is None and time.monotonic() < deadline:
        await asyncio.sleep(0.001)
        lock = write_lock_once_created(database, "feeds")
    assert lock is not None, daemon.log_tail()

    await daemon.kill()

    lock.execute("ROLLBACK")
    lock.close()
    await finish(daemon, config, hooks, {story.path})
    await assert_each_story_arrived_under_one_id(config, hooks, {story.path})


@pytest.mark.postgres
async def test_killed_in_the_middle_of_the_first_migration(
    site: Site,
    hooks: FlakyReceiver,
    daemons: Callable[[Path], Daemon],
    tmp_path: Path,
    postgres_url: str,
) -> None:
    """The test creates the ``alerts`` table in a transaction it keeps open: the daemon's
    first migration creates ``feeds`` and ``articles``, then waits on that name. The test kills
    the daemon once ``pg_stat_activity`` shows its CREATE TABLE waiting, then rolls its own
    table back; the daemon's server process finds its client gone and rolls back the half-made
    schema. The next start must build a working database."""
    story = Story.make(0)
    site.handle(story.path, plain_page(story))
    feed = site.serve("/feed.xml", rss([story.item(site)]))
    locker = await asyncpg.connect(asyncpg_dsn(postgres_url))
    watcher = await asyncpg.connect(asyncpg_dsn(postgres_url))
    transaction = locker.transaction()
    await transaction.start()
    await locker.execute("CREATE TABLE alerts (id integer)")

    async def migration_waits() -> bool:
        waiting = await watcher.fetchval(
            "SELECT count(*) FROM pg_stat_activity WHERE datname = current_database() "
            "AND wait_event_type = 'Lock' AND query LIKE '%CREATE TABLE alerts%'"
        )
        return bool(waiting)

    try:
        config = crash_config(tmp_path, database_url=postgres_url, feeds=[feed], receiver=hooks)
        daemon = daemons(config)
        await daemon.start()
        await eventually(migration_waits, 60, "the migration never waited", daemon)
        # Its transaction holds the tables it made so far, uncommitted (invisible to others).
        held = await watcher.fetchval(
            "SELECT count(DISTINCT l.relation) FROM pg_locks l JOIN pg_stat_activity a "
            "USING (pid) WHERE a.query LIKE '%CREATE TABLE alerts%' AND l.granted "
            "AND l.mode = 'AccessExclusiveLock' AND l.locktype = 'relation'"
        )
        assert held >= 2  # feeds, articles and their indexes

        await daemon.kill()

        await transaction.rollback()
        await finish(daemon, config, hooks, {story.path})
    finally:
        await locker.close()
        await watcher.close()
    await assert_each_story_arrived_under_one_id(config, hooks, {story.path})
    assert len(hooks.deliveries) == 1
