"""The storage contract, on SQLite and on PostgreSQL."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Callable
from datetime import UTC, datetime, timedelta

import pytest
import sqlalchemy as sa
from alembic import command
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy.engine import Connection

from monitor.records import NewArticle, TopicMatch
from monitor.store.engine import (
    SCHEMA_HEAD,
    alembic_config,
    open_engine,
    stored_revisions,
    upgrade_schema,
)
from monitor.store.facade import Store
from monitor.store.feeds import ParsedCheck, UnchangedCheck
from monitor.store.tables import Base, UTCDateTime

NOW = datetime(2024, 1, 26, 12, 0, tzinfo=UTC)


@pytest.fixture
async def store(database_url: str) -> AsyncIterator[Store]:
    engine = open_engine(database_url)
    await upgrade_schema(engine)
    yield Store(engine)
    await engine.dispose()


def article(
    feed_id: int, *, guid: str = "g1", url: str = "https://news.example/a", matched: bool = True
) -> NewArticle:
    matches = (TopicMatch("talks", "alert", 3.0, ("Iraq", "withdrawal")),) if matched else ()
    return NewArticle(
        feed_id=feed_id,
        guid=guid,
        url=url,
        canonical_url=url,
        title="US and Iraq start talks",
        summary="Talks began.",
        text="Talks began. More text.",
        published_at=NOW,
        language="en",
        matches=matches,
    )


def to(*endpoints: str) -> Callable[[str], tuple[str, ...]]:
    """Recipients: every topic goes to ``endpoints``."""
    return lambda _topic: endpoints


async def feed_id(store: Store, url: str = "https://news.example/feed") -> int:
    await store.add_feed(url, "Example", NOW)
    feeds = await store.feeds_to_poll(None)
    return next(feed.id for feed in feeds if feed.url == url)


async def test_migrating_twice_is_harmless(database_url: str) -> None:
    engine = open_engine(database_url)
    assert await stored_revisions(engine) == set()
    await upgrade_schema(engine)
    await upgrade_schema(engine)
    assert await stored_revisions(engine) == {SCHEMA_HEAD}
    await engine.dispose()


def test_the_schema_head_is_the_newest_migration() -> None:
    """A database at ``SCHEMA_HEAD`` is taken as current without asking Alembic: a new
    migration must move it, or it would never be applied."""
    assert ScriptDirectory.from_config(alembic_config()).get_heads() == [SCHEMA_HEAD]


async def test_config_sync_adds_updates_and_disables(store: Store) -> None:
    await store.sync_config_feeds(
        [("https://a.example/rss", "A"), ("https://b.example/rss", None)], NOW
    )
    await store.add_feed("https://c.example/rss", "by hand", NOW)
    await store.sync_config_feeds([("https://a.example/rss", "A renamed")], NOW)

    feeds = {feed.url: feed for feed in await store.list_feeds()}
    assert feeds["https://a.example/rss"].name == "A renamed"
    assert feeds["https://a.example/rss"].enabled
    assert not feeds["https://b.example/rss"].enabled  # dropped from the config
    assert feeds["https://c.example/rss"].enabled  # added by hand: the config leaves it alone
    polled = {feed.url for feed in await store.feeds_to_poll(None)}
    assert polled == {"https://a.example/rss", "https://c.example/rss"}


def unchanged(feed_id: int, next_check_at: datetime, **more: str) -> UnchangedCheck:
    return UnchangedCheck(feed_id, 304, None, None, next_check_at, **more)


def read(feed_id: int, next_check_at: datetime, body_hash: str, *, etag: str) -> ParsedCheck:
    check = UnchangedCheck(feed_id, 200, etag, None, next_check_at)
    return ParsedCheck(check, body_hash, "A", poll_interval_seconds=None, ttl_seconds=None)


async def test_add_and_remove_feed(store: Store) -> None:
    assert await store.add_feed("https://c.example/rss", None, NOW)
    assert not await store.add_feed("https://c.example/rss", None, NOW)
    assert await store.remove_feed("https://c.example/rss")
    assert not await store.remove_feed("https://c.example/rss")
    assert await store.list_feeds() == []


async def test_due_feeds_follow_the_schedule(store: Store) -> None:
    first = await feed_id(store, "https://a.example/rss")
    await feed_id(store, "https://b.example/rss")
    await store.record_parsed([read(first, NOW + timedelta(minutes=15), "h", etag='"v1"')], NOW)
    due = await store.feeds_to_poll(NOW + timedelta(minutes=1))
    assert [feed.url for feed in due] == ["https://b.example/rss"]
    later = await store.feeds_to_poll(NOW + timedelta(minutes=16))
    remembered = next(feed for feed in later if feed.id == first)
    assert (remembered.etag, remembered.body_hash, remembered.title) == ('"v1"', "h", "A")


async def test_failures_are_counted_and_a_success_resets_them(store: Store) -> None:
    feed = await feed_id(store)
    for _ in range(2):
        await store.record_feed_failure(feed, now=NOW, next_check_at=NOW, error="HTTP 500")
    [status] = await store.list_feeds()
    assert (status.error_count, status.last_error) == (2, "HTTP 500")
    await store.record_unchanged([unchanged(feed, NOW)], NOW)
    [status] = await store.list_feeds()
    assert (status.error_count, status.last_error) == (0, None)


async def test_an_article_is_stored_once_with_its_alerts(store: Store) -> None:
    feed = await feed_id(store)
    assert await store.save_article(article(feed), to("default", "ops"), NOW) == 2
    # Same canonical URL from another entry, and same GUID with another URL: both already known.
    assert await store.save_article(article(feed, guid="g2"), to("default"), NOW) is None
    assert (
        await store.save_article(
            article(feed, url="https://news.example/other"), to("default"), NOW
        )
        is None
    )
    assert await store.count_articles() == 1
    assert await store.is_known(feed, "g1", "https://news.example/zzz")
    assert await store.is_known(feed + 1, "zzz", "https://news.example/a")
    assert not await store.is_known(feed, "g9", "https://news.example/b")
    alerts = await store.list_alerts()
    assert sorted(alert.endpoint for alert in alerts) == ["default", "ops"]
    assert all(alert.status == "pending" for alert in alerts)


async def test_an_unmatched_article_is_remembered_without_alerts(store: Store) -> None:
    feed = await feed_id(store)
    assert await store.save_article(article(feed, matched=False), to("default"), NOW) == 0
    assert await store.is_known(feed, "g1", "https://news.example/a")
    assert await store.list_alerts() == []


async def test_removing_a_feed_keeps_its_articles_known(store: Store) -> None:
    feed = await feed_id(store)
    await store.save_article(article(feed), to("default"), NOW)
    await store.remove_feed("https://news.example/feed")
    assert await store.is_known(999, "other", "https://news.example/a")
    assert len(await store.list_alerts()) == 1


async def test_a_gone_feed_stays_off_until_added_again(store: Store) -> None:
    await store.sync_config_feeds([("https://a.example/rss", "A")], NOW)
    [feed] = await store.feeds_to_poll(None)
    await store.record_feed_failure(
        feed.id, now=NOW, next_check_at=NOW, error="HTTP 410 Gone", status=410, disable=True
    )
    await store.sync_config_feeds([("https://a.example/rss", "A")], NOW)  # a restart
    assert await store.feeds_to_poll(None) == []
    [status] = await store.list_feeds()
    assert (status.enabled, status.last_status, status.disabled_reason) == (
        False,
        410,
        "HTTP 410 Gone",
    )
    assert not await store.add_feed("https://a.example/rss", None, NOW)
    [again] = await store.feeds_to_poll(None)
    assert again.id == feed.id
    [status] = await store.list_feeds()
    assert (status.enabled, status.disabled_reason, status.error_count) == (True, None, 0)


async def test_refusals_are_counted_per_feed(store: Store) -> None:
    first = await feed_id(store, "https://a.example/rss")
    second = await feed_id(store, "https://b.example/rss")
    await store.count_refusal(first)
    await store.record_feed_failure(
        first, now=NOW, next_check_at=NOW, error="refused: x", refused=True
    )
    counts = {status.url: status.refusal_count for status in await store.list_feeds()}
    assert counts == {"https://a.example/rss": 2, "https://b.example/rss": 0}
    assert second


async def test_a_moved_feed_keeps_its_name_and_fetches_from_its_new_address(store: Store) -> None:
    feed = await feed_id(store)
    moved = unchanged(feed, NOW, moved_to="https://new.example/feed")
    await store.record_parsed(
        [ParsedCheck(moved, "h", title=None, poll_interval_seconds=1800.0, ttl_seconds=3600.0)],
        NOW,
    )
    [polled] = await store.feeds_to_poll(None)
    assert (polled.url, polled.location) == (
        "https://news.example/feed",
        "https://new.example/feed",
    )
    assert (polled.poll_interval_seconds, polled.ttl_seconds) == (1800.0, 3600.0)
    # A check that did not parse keeps what the last parse learned, and the new address.
    await store.record_unchanged([unchanged(feed, NOW)], NOW)
    [polled] = await store.feeds_to_poll(None)
    assert (polled.location, polled.poll_interval_seconds) == ("https://new.example/feed", 1800.0)


async def test_checks_that_read_the_feed_are_recorded_together(store: Store) -> None:
    ids = [await feed_id(store, f"https://{n}.example/rss") for n in range(3)]
    await store.record_parsed([read(ids[0], NOW, "h0", etag='"0"')], NOW)
    later = NOW + timedelta(hours=1)
    untitled = UnchangedCheck(ids[0], 200, None, "Fri, 26 Jan 2024 11:00:00 GMT", later)
    await store.record_parsed(
        [
            ParsedCheck(untitled, None, None, poll_interval_seconds=600.0, ttl_seconds=None),
            read(ids[1], later, "h1", etag='"1"'),
        ],
        NOW,
    )
    polled = {feed.id: feed for feed in await store.feeds_to_poll(later)}
    assert set(polled) == {ids[0], ids[1], ids[2]}
    first, second = polled[ids[0]], polled[ids[1]]
    # No title in the body keeps the one known; no hash makes the next check read it again.
    assert (first.title, first.body_hash, first.etag) == ("A", None, None)
    assert (first.last_modified, first.poll_interval_seconds) == (untitled.last_modified, 600.0)
    assert (second.body_hash, second.etag) == ("h1", '"1"')
    assert [feed.id for feed in await store.feeds_to_poll(NOW)] == [ids[2]]


async def test_unchanged_checks_are_recorded_together(store: Store) -> None:
    ids = [await feed_id(store, f"https://{n}.example/rss") for n in range(3)]
    await store.record_feed_failure(ids[0], now=NOW, next_check_at=NOW, error="HTTP 500")
    later = NOW + timedelta(hours=1)
    await store.record_unchanged(
        [
            UnchangedCheck(feed_id=i, status=304, etag=f'"{i}"', last_modified=None,
                           next_check_at=later + timedelta(minutes=i))
            for i in ids[:2]
        ],
        NOW,
    )  # fmt: skip
    assert [feed.id for feed in await store.feeds_to_poll(NOW)] == [ids[2]]
    polled = {feed.id: feed for feed in await store.feeds_to_poll(later + timedelta(hours=1))}
    assert (polled[ids[0]].etag, polled[ids[0]].error_count) == (f'"{ids[0]}"', 0)
    statuses = {status.url: status for status in await store.list_feeds()}
    assert statuses["https://0.example/rss"].last_status == 304
    assert statuses["https://0.example/rss"].next_check_at == later + timedelta(minutes=ids[0])
    assert statuses["https://0.example/rss"].last_error is None


async def test_the_feed_status_migration_keeps_existing_feeds(database_url: str) -> None:
    engine = open_engine(database_url)

    def migrate(connection: Connection, action: str, target: str) -> None:
        config = alembic_config()
        config.attributes["connection"] = connection
        getattr(command, action)(config, target)

    old_feeds = sa.table(
        "feeds", *(sa.column(name) for name in ("url", "title", "origin", "enabled")),
        sa.column("next_check_at", UTCDateTime()), sa.column("created_at", UTCDateTime()),
        sa.column("error_count"),
    )  # fmt: skip
    try:
        async with engine.begin() as connection:
            await connection.run_sync(migrate, "upgrade", "0001")
            await connection.execute(
                old_feeds.insert().values(
                    url="https://a.example/rss", title="", origin="config", enabled=True,
                    next_check_at=NOW, created_at=NOW, error_count=0,
                )
            )  # fmt: skip
            await connection.run_sync(migrate, "upgrade", "head")
        [status] = await Store(engine).list_feeds()
        assert (status.url, status.refusal_count, status.disabled_reason) == (
            "https://a.example/rss",
            0,
            None,
        )
        async with engine.begin() as connection:
            await connection.run_sync(migrate, "downgrade", "0001")
            await connection.run_sync(migrate, "upgrade", "head")
    finally:
        await engine.dispose()


async def test_a_digest_match_is_stored_without_an_alert(store: Store) -> None:
    feed = await feed_id(store)
    digest = NewArticle(
        feed_id=feed,
        guid="d1",
        url="https://news.example/d",
        canonical_url="https://news.example/d",
        title="Drone attack on base in Iraq",
        summary="",
        text="",
        published_at=NOW,
        language="en",
        matches=(TopicMatch("talks", "digest", 4.0, ("Iraq", "attack*"), ("attacks",)),),
    )
    assert await store.save_article(digest, to("default"), NOW) == 0
    assert await store.list_alerts() == []
    [(level, rules)] = await store.match_levels("https://news.example/d")
    assert (level, rules) == ("digest", ["attacks"])


async def test_the_migrations_build_the_schema_the_code_expects(database_url: str) -> None:
    engine = open_engine(database_url)
    await upgrade_schema(engine)

    def differences(connection: Connection) -> list[object]:
        context = MigrationContext.configure(connection, opts={"compare_type": True})
        return list(compare_metadata(context, Base.metadata))

    async with engine.connect() as connection:
        assert await connection.run_sync(differences) == []
    await engine.dispose()


@pytest.mark.postgres
async def test_replicas_starting_together_migrate_once(postgres_url: str) -> None:
    # SQLite serves one process (the daemon refuses a second one), so only PostgreSQL sees this.
    engines = [open_engine(postgres_url) for _ in range(3)]
    await asyncio.gather(*(upgrade_schema(engine) for engine in engines))
    for engine in engines:
        await engine.dispose()


async def test_claimed_feeds_wait_for_their_check_or_their_lease(store: Store) -> None:
    for name in "abc":
        await store.add_feed(f"https://{name}.example/rss", None, NOW)
    first = await store.feeds_to_poll(NOW, 2, lease_seconds=300)
    second = await store.feeds_to_poll(NOW, 10, lease_seconds=300)
    assert len(first) == 2
    assert [feed.url for feed in second] == ["https://c.example/rss"]
    assert await store.feeds_to_poll(NOW, 10, lease_seconds=300) == []
    # Recording a check ends its lease; a replica killed mid-check loses it after 300 s.
    await store.record_feed_failure(first[0].id, now=NOW, next_check_at=NOW, error="HTTP 500")
    assert [f.id for f in await store.feeds_to_poll(NOW, 10, lease_seconds=300)] == [first[0].id]
    later = NOW + timedelta(seconds=301)
    assert {f.id for f in await store.feeds_to_poll(later, 10, lease_seconds=300)} == {
        first[1].id,
        second[0].id,
        first[0].id,
    }
    # A replica stopping hands its claims back: due again at once.
    await store.release_feeds([feed.id for feed in first])
    assert {f.id for f in await store.feeds_to_poll(later, 10, lease_seconds=300)} == {
        feed.id for feed in first
    }


async def test_a_long_check_renews_the_lease_of_its_unfinished_feeds(store: Store) -> None:
    for name in "ab":
        await store.add_feed(f"https://{name}.example/rss", None, NOW)
    slow, quick = await store.feeds_to_poll(NOW, 10, lease_seconds=300)
    await store.record_feed_failure(quick.id, now=NOW, next_check_at=NOW, error="HTTP 500")
    # Four minutes in, the check of ``slow`` is still fetching article pages.
    await store.extend_feed_leases([slow.id, quick.id], NOW + timedelta(seconds=540))
    later = NOW + timedelta(seconds=301)
    # Past the first lease no other replica takes ``slow``; ``quick`` was done and is due.
    assert [f.id for f in await store.feeds_to_poll(later, 10, lease_seconds=300)] == [quick.id]
    assert await store.feeds_to_poll(NOW + timedelta(seconds=541), 10, lease_seconds=300) != []


async def test_an_unchanged_config_is_not_synced_again(store: Store) -> None:
    listed = [(f"https://{n}.example/rss", f"Feed {n}") for n in range(2500)]
    assert await store.sync_config_feeds(listed, NOW)  # more rows than one statement takes
    assert len(await store.list_feeds()) == 2500
    assert not await store.sync_config_feeds(list(reversed(listed)), NOW)  # the same list
    # A command that changes the feed list makes the next start sync again.
    await store.remove_feed("https://7.example/rss")
    assert await store.sync_config_feeds(listed, NOW)
    assert "https://7.example/rss" in {feed.url for feed in await store.list_feeds()}
    # A changed list syncs: renamed, dropped and new feeds.
    changed = [("https://0.example/rss", "Renamed"), ("https://new.example/rss", None)]
    assert await store.sync_config_feeds(changed, NOW)
    feeds = {feed.url: feed for feed in await store.list_feeds()}
    assert feeds["https://0.example/rss"].name == "Renamed"
    assert feeds["https://new.example/rss"].enabled
    assert sum(feed.enabled for feed in feeds.values()) == 2


async def test_every_enabled_feed_can_be_listed_for_a_one_off_poll(store: Store) -> None:
    listed = [(f"https://{n}.example/rss", None) for n in range(1200)]
    await store.sync_config_feeds(listed, NOW)
    assert len(await store.feeds_to_poll(None)) == 1000  # a daemon tick takes a batch
    assert len(await store.feeds_to_poll(None, limit=None)) == 1200  # `monitor once`: all
