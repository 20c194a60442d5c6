"""The outbox contract, on SQLite and on PostgreSQL: claims and leases, attempts, the
operator's commands, endpoint state and digests."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy.exc import IntegrityError

from monitor.records import NewArticle, TopicMatch
from monitor.store.engine import open_engine, upgrade_schema
from monitor.store.facade import Store
from monitor.store.tables import AttemptRow

NOW = datetime(2024, 1, 26, 12, 0, tzinfo=UTC)


@pytest.fixture
async def store(database_url: str) -> AsyncIterator[Store]:
    engine = open_engine(database_url)
    await upgrade_schema(engine)
    store = Store(engine)
    await store.add_feed("https://news.example/rss", "Example", NOW)
    await store.ensure_endpoints(["default", "ops"])
    yield store
    await engine.dispose()


async def add_article(
    store: Store,
    number: int,
    *,
    level: str = "alert",
    topic: str = "talks",
    endpoints: tuple[str, ...] = ("default",),
) -> None:
    [feed] = await store.feeds_to_poll(None)
    url = f"https://news.example/{number}"
    article = NewArticle(
        feed_id=feed.id,
        guid=str(number),
        url=url,
        canonical_url=url,
        title=f"Story {number}",
        summary=f"Summary {number}.",
        text="",
        published_at=NOW,
        language="en",
        matches=(TopicMatch(topic, level, 3.0, ("Iraq*",), ("rule",)),),  # type: ignore[arg-type]
    )
    await store.save_article(article, lambda _t: endpoints, NOW)


async def test_a_claim_hides_rows_until_its_lease_ends(store: Store) -> None:
    for number in range(3):
        await add_article(store, number)
    first = await store.claim_due("default", NOW, 2, lease_seconds=60)
    second = await store.claim_due("default", NOW, 10, lease_seconds=60)
    assert len(first) == 2
    assert len(second) == 1
    assert {a.id for a in first}.isdisjoint({a.id for a in second})
    assert await store.claim_due("default", NOW + timedelta(seconds=59), 10, 60) == []
    # The sender died: after the lease, the same alerts (same ids) are due again.
    again = await store.claim_due("default", NOW + timedelta(seconds=61), 10, 60)
    assert {a.id for a in again} == {a.id for a in first + second}


async def test_concurrent_claims_never_share_a_row(store: Store) -> None:
    for number in range(20):
        await add_article(store, number)
    claims = await asyncio.gather(
        *(store.claim_due("default", NOW, 3, lease_seconds=60) for _ in range(10))
    )
    ids = [alert.id for claim in claims for alert in claim]
    assert len(ids) == len(set(ids)) == 20


async def test_released_alerts_are_due_at_once(store: Store) -> None:
    await add_article(store, 1)
    [alert] = await store.claim_due("default", NOW, 10, 60)
    await store.release([alert])
    assert [a.id for a in await store.claim_due("default", NOW, 10, 60)] == [alert.id]


async def test_attempts_are_recorded_and_shown(store: Store) -> None:
    await add_article(store, 1)
    [alert] = await store.claim_due("default", NOW, 10, 60)
    retry_at = NOW + timedelta(seconds=5)
    await store.record_attempt(
        alert,
        now=NOW,
        status_code=503,
        error="HTTP 503",
        duration_ms=12,
        outcome="retry",
        next_attempt_at=retry_at,
    )
    assert await store.claim_due("default", NOW + timedelta(seconds=4), 10, 60) == []
    [again] = await store.claim_due("default", retry_at, 10, 60)
    assert (again.id, again.attempts) == (alert.id, 1)
    await store.record_attempt(
        again, now=retry_at, status_code=204, error=None, duration_ms=3, outcome="delivered"
    )
    detail = await store.alert_detail(alert.id)
    assert detail is not None
    assert (detail.alert.status, detail.alert.attempts, detail.delivered_at) == (
        "delivered",
        2,
        retry_at,
    )
    assert [(a.number, a.status_code, a.error) for a in detail.attempts] == [
        (1, 503, "HTTP 503"),
        (2, 204, None),
    ]
    assert await store.alert_detail("no-such-id") is None


async def test_dead_alerts_stay_visible_and_can_be_retried(store: Store) -> None:
    await add_article(store, 1)
    await add_article(store, 2)
    alerts = await store.claim_due("default", NOW, 10, 60)
    for alert in alerts:
        await store.record_attempt(
            alert, now=NOW, status_code=None, error="refused", duration_ms=0, outcome="dead"
        )
    assert await store.claim_due("default", NOW + timedelta(days=30), 10, 60) == []
    assert len(await store.list_alerts(status="dead")) == 2
    assert await store.retry_alerts(NOW, ids=[alerts[0].id]) == 1
    assert [a.id for a in await store.claim_due("default", NOW, 10, 60)] == [alerts[0].id]
    assert await store.retry_alerts(NOW, dead=True) == 1
    [retried] = await store.claim_due("default", NOW, 10, 60)
    assert (retried.id, retried.attempts) == (alerts[1].id, 0)


async def test_replay_sends_delivered_alerts_again_with_their_ids(store: Store) -> None:
    await add_article(store, 1)
    [alert] = await store.claim_due("default", NOW, 10, 60)
    await store.record_attempt(
        alert, now=NOW, status_code=200, error=None, duration_ms=1, outcome="delivered"
    )
    assert await store.replay_alerts(NOW + timedelta(hours=1), NOW) == 0  # too old
    assert await store.replay_alerts(NOW - timedelta(hours=2), NOW) == 1
    assert [a.id for a in await store.claim_due("default", NOW, 10, 60)] == [alert.id]


async def test_an_endpoint_can_be_disabled_and_enabled(store: Store) -> None:
    await add_article(store, 1, endpoints=("ops",))
    await store.disable_endpoint("ops", "the receiver answered 410 Gone", NOW)
    states = await store.endpoint_states()
    assert states["ops"].disabled_reason == "the receiver answered 410 Gone"
    assert (states["ops"].pending, states["default"].pending) == (1, 0)
    assert await store.enable_endpoint("ops")
    assert not await store.enable_endpoint("ops")
    assert (await store.endpoint_states())["ops"].disabled_reason is None


async def test_a_digest_collects_digest_matches_once(store: Store) -> None:
    await add_article(store, 1, level="digest")
    await add_article(store, 2, level="alert")
    await add_article(store, 3, level="digest", topic="weather")
    digest_id = await store.queue_digest("ops", ["talks"], NOW)
    assert digest_id is not None
    detail = await store.alert_detail(digest_id)
    assert detail is not None
    assert detail.alert.kind == "digest"
    assert detail.alert.title == "digest of 1 stories"
    [story] = detail.payload["stories"]
    assert (story["title"], story["source"]["title"], story["matched_rules"]) == (
        "Story 1",
        "Example",
        ["rule"],
    )
    # Nothing new since: no second digest; a new match goes in the next one.
    assert await store.queue_digest("ops", ["talks"], NOW) is None
    await add_article(store, 4, level="digest")
    next_id = await store.queue_digest("ops", [], NOW)
    assert next_id is not None
    detail = await store.alert_detail(next_id)
    assert detail is not None
    assert [s["title"] for s in detail.payload["stories"]] == ["Story 4"]


async def test_a_new_endpoint_digest_starts_from_now(store: Store) -> None:
    await add_article(store, 1, level="digest")
    await store.ensure_endpoints(["late"])
    assert await store.queue_digest("late", [], NOW) is None


async def test_a_sender_whose_claim_lapsed_cannot_change_the_alert(store: Store) -> None:
    await add_article(store, 1)
    [stale] = await store.claim_due("default", NOW, 10, lease_seconds=60)
    # The first sender stalls past its lease; a second one claims the alert and delivers it.
    later = NOW + timedelta(seconds=61)
    [fresh] = await store.claim_due("default", later, 10, lease_seconds=60)
    assert fresh.id == stale.id
    assert fresh.claim != stale.claim
    assert await store.record_attempt(
        fresh, now=later, status_code=200, error=None, duration_ms=5, outcome="delivered"
    )
    # The stale sender wakes up with a failure: it must neither mark the alert dead nor
    # number an attempt.
    assert not await store.record_attempt(
        stale, now=later, status_code=None, error="timed out", duration_ms=0, outcome="dead"
    )
    await store.release([stale])
    detail = await store.alert_detail(stale.id)
    assert detail is not None
    assert (detail.alert.status, detail.alert.attempts) == ("delivered", 1)
    assert [(a.number, a.status_code) for a in detail.attempts] == [(1, 200)]
    assert await store.claim_due("default", later + timedelta(hours=1), 10, 60) == []


async def test_a_renewed_claim_keeps_other_senders_away(store: Store) -> None:
    await add_article(store, 1)
    [held] = await store.claim_due("default", NOW, 10, lease_seconds=60)
    assert await store.extend_claims([held], NOW + timedelta(seconds=120)) == 1
    assert await store.claim_due("default", NOW + timedelta(seconds=90), 10, 60) == []
    [taken] = await store.claim_due("default", NOW + timedelta(seconds=121), 10, 60)
    # The first claim has lapsed and been replaced: renewing it no longer holds anything.
    assert await store.extend_claims([held], NOW + timedelta(seconds=500)) == 0
    assert taken.claim != held.claim


async def test_attempt_numbers_are_unique_per_alert(store: Store) -> None:
    await add_article(store, 1)
    [alert] = await store.claim_due("default", NOW, 10, 60)
    async with store.db.writing() as session:
        session.add(AttemptRow(alert_id=alert.id, number=1, at=NOW, duration_ms=0))
    with pytest.raises(IntegrityError):
        async with store.db.writing() as session:
            session.add(AttemptRow(alert_id=alert.id, number=1, at=NOW, duration_ms=0))
