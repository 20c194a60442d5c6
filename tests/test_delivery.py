"""Delivery to real local receivers: signatures the reference verifier accepts, the retry
schedule on an injectable clock, Retry-After, 410 Gone, redirects, dead letters, formats."""

from __future__ import annotations

import asyncio
import random
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from email.utils import format_datetime

import aiohttp
import pytest
from aiohttp import web
from sqlalchemy import select
from standardwebhooks import Webhook
from standardwebhooks.webhooks import WebhookVerificationError

from monitor.deliver.sender import deliver_due, next_attempt
from monitor.deliver.settings import DeliverySettings
from monitor.deliver.webhook import Endpoint, signed_headers
from monitor.records import NewArticle, TopicMatch
from monitor.store.engine import open_engine, upgrade_schema
from monitor.store.facade import Store
from monitor.store.tables import AlertRow
from tests.web import Receiver, Site

SECRET = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"
NEW_SECRET = "whsec_C2FVsBQIhrscChlQIMV+b5sSYspob7oD"
START = datetime.now(UTC).replace(microsecond=0)
SCHEDULE = DeliverySettings(retry_seconds=(5, 300, 1800), timeout_seconds=2)


class Clock:
    """A clock the test moves by hand."""

    def __init__(self, now: datetime) -> None:
        self.now = now

    def __call__(self) -> datetime:
        return self.now

    def advance(self, seconds: float) -> None:
        self.now += timedelta(seconds=seconds)


@pytest.fixture
async def store(sqlite_url: str) -> AsyncIterator[Store]:
    engine = open_engine(sqlite_url)
    await upgrade_schema(engine)
    store = Store(engine)
    await store.add_feed("https://news.example/rss", None, START)
    await store.ensure_endpoints(["hook"])
    await add_alerts(store, 1)
    yield store
    await engine.dispose()


async def add_alerts(store: Store, count: int, first: int = 1) -> None:
    [feed] = await store.feeds_to_poll(None)
    for number in range(first, first + count):
        url = f"https://news.example/{number}"
        article = NewArticle(
            feed_id=feed.id,
            guid=str(number),
            url=url,
            canonical_url=url,
            title="Talks",
            summary="",
            text="",
            published_at=None,
            language=None,
            matches=(TopicMatch("t", "alert", 2.0, ("Iraq",)),),
        )
        await store.save_article(article, lambda _t: ["hook"], START)


async def deliver(
    store: Store, endpoint: Endpoint, clock: Clock, settings: DeliverySettings = SCHEDULE
) -> tuple[int, int]:
    async with aiohttp.ClientSession() as http:
        report = await deliver_due(store, http, [endpoint], settings, clock, random.Random(7))
    return report.sent, report.failed


def signature_ok(secret: str, headers: dict[str, str], body: bytes) -> bool:
    """Our signature, recomputed by the reference implementation at the header's time."""
    moment = datetime.fromtimestamp(int(headers["webhook-timestamp"]), UTC)
    expected = Webhook(secret).sign(headers["webhook-id"], moment, body.decode())
    return expected in headers["webhook-signature"].split(" ")


def test_signatures_verify_with_the_reference_implementation() -> None:
    endpoint = Endpoint("hook", "https://hooks.example", (SECRET,))
    now = datetime.now(UTC)
    body = '{"id":"msg_1","type":"article.matched"}'
    headers = signed_headers(endpoint, "msg_1", body, now)
    verifier = Webhook(SECRET)
    assert verifier.verify(body, headers) == {"id": "msg_1", "type": "article.matched"}
    with pytest.raises(WebhookVerificationError):
        verifier.verify(body.replace("msg_1", "msg_2"), headers)  # tampered body
    with pytest.raises(WebhookVerificationError):
        verifier.verify(body, {**headers, "webhook-id": "msg_2"})  # tampered id
    stale = signed_headers(endpoint, "msg_1", body, now - timedelta(hours=1))
    with pytest.raises(WebhookVerificationError, match="too old"):
        verifier.verify(body, stale)


def test_during_a_rotation_either_secret_verifies() -> None:
    endpoint = Endpoint("hook", "https://hooks.example", (NEW_SECRET, SECRET))
    body = '{"id":"msg_1"}'
    headers = signed_headers(endpoint, "msg_1", body, datetime.now(UTC))
    assert len(headers["webhook-signature"].split(" ")) == 2
    for secret in (NEW_SECRET, SECRET):
        assert Webhook(secret).verify(body, headers) == {"id": "msg_1"}


def test_no_secret_means_no_signature_and_secrets_never_show() -> None:
    bare = Endpoint("hook", "https://hooks.example")
    assert "webhook-signature" not in signed_headers(bare, "m", "{}", START)
    assert "MfKQ" not in repr(Endpoint("hook", "https://hooks.example", (SECRET,)))


def test_the_schedule_jitters_ends_and_yields_to_retry_after() -> None:
    rng = random.Random(1)
    schedule = (5.0, 300.0)
    first = next_attempt(1, schedule, START, rng=rng)
    assert first is not None
    assert timedelta(seconds=4.5) <= first - START <= timedelta(seconds=5.5)
    assert next_attempt(3, schedule, START) is None
    waited = next_attempt(1, schedule, START, retry_after=120, rng=rng)
    assert waited == START + timedelta(seconds=120)
    capped = next_attempt(1, schedule, START, retry_after=10**9, rng=rng)
    assert capped == START + timedelta(days=1)


async def test_three_failures_then_success_is_four_attempts_on_schedule(store: Store) -> None:
    receiver = await Receiver(statuses=[500, 502, 503]).start()
    clock = Clock(START)
    endpoint = Endpoint("hook", receiver.url, (SECRET,))
    try:
        assert await deliver(store, endpoint, clock) == (0, 1)  # immediately
        for wait in (5, 300, 1800):
            clock.advance(wait * 0.85)  # not yet: inside the jitter band's lower edge
            assert await deliver(store, endpoint, clock) == (0, 0)
            clock.advance(wait * 0.3)
            sent, failed = await deliver(store, endpoint, clock)
            assert sent + failed == 1
    finally:
        await receiver.close()
    assert len(receiver.deliveries) == 4
    assert len({d.headers["webhook-id"] for d in receiver.deliveries}) == 1
    stamps = [int(d.headers["webhook-timestamp"]) for d in receiver.deliveries]
    assert stamps == sorted(set(stamps))  # fresh on every attempt
    assert all(signature_ok(SECRET, d.headers, d.body) for d in receiver.deliveries)
    [alert] = await store.list_alerts(status="delivered")
    assert alert.attempts == 4
    detail = await store.alert_detail(alert.id)
    assert detail is not None
    assert [a.status_code for a in detail.attempts] == [500, 502, 503, 200]


async def test_a_receiver_down_past_the_schedule_makes_a_dead_alert(store: Store) -> None:
    receiver = await Receiver(statuses=[500] * 10).start()
    clock = Clock(START)
    endpoint = Endpoint("hook", receiver.url)
    try:
        for _ in range(6):
            await deliver(store, endpoint, clock)
            clock.advance(3600)
    finally:
        await receiver.close()
    assert len(receiver.deliveries) == 4  # the first try and three retries
    [dead] = await store.list_alerts(status="dead")
    assert dead.last_error == "HTTP 500 Internal Server Error"


@pytest.mark.parametrize("retry_after", ["120", "date"])
async def test_retry_after_is_honoured(store: Store, site: Site, retry_after: str) -> None:
    clock = Clock(START)
    header = (
        format_datetime(START + timedelta(seconds=120), usegmt=True)
        if retry_after == "date"
        else retry_after
    )
    seen: list[str] = []

    async def busy(request: web.Request) -> web.Response:
        seen.append(request.headers["webhook-id"])
        status = 429 if len(seen) == 1 else 200
        return web.Response(status=status, headers={"Retry-After": header})

    endpoint = Endpoint("hook", site.handle("/hook", busy))
    assert await deliver(store, endpoint, clock) == (0, 1)
    clock.advance(60)  # past the 5 s of the schedule, not past Retry-After
    assert await deliver(store, endpoint, clock) == (0, 0)
    clock.advance(61)
    assert await deliver(store, endpoint, clock) == (1, 0)
    assert len(seen) == 2


async def test_gone_disables_the_endpoint_and_holds_its_alerts(store: Store) -> None:
    await add_alerts(store, 3, first=2)
    receiver = await Receiver(statuses=[410] * 10).start()
    clock = Clock(START)
    endpoint = Endpoint("hook", receiver.url)
    one_at_a_time = DeliverySettings(concurrency=1)
    try:
        assert await deliver(store, endpoint, clock, one_at_a_time) == (0, 1)
        clock.advance(3600)
        assert await deliver(store, endpoint, clock) == (0, 0)  # nothing sent to a gone receiver
    finally:
        await receiver.close()
    assert len(receiver.deliveries) == 1
    state = (await store.endpoint_states())["hook"]
    assert state.disabled_reason is not None
    assert "410 Gone" in state.disabled_reason
    assert state.pending == 4  # held, not dropped
    assert await store.list_alerts(status="dead") == []


async def test_a_redirect_is_a_failure_and_is_not_followed(store: Store, site: Site) -> None:
    elsewhere = site.serve("/elsewhere", "ok", content_type="text/plain")

    async def redirect(_request: web.Request) -> web.Response:
        raise web.HTTPFound(elsewhere)

    assert await deliver(store, Endpoint("hook", site.handle("/hook", redirect)), Clock(START)) == (
        0,
        1,
    )
    assert site.hits("/elsewhere") == 0


async def test_alerts_wait_while_no_webhook_is_configured(store: Store) -> None:
    async with aiohttp.ClientSession() as http:
        report = await deliver_due(store, http, [Endpoint("hook", None)], SCHEDULE, Clock(START))
    assert (report.sent, report.failed, report.waiting) == (0, 0, 1)
    [alert] = await store.list_alerts()
    assert (alert.status, alert.attempts) == ("pending", 0)


async def test_one_pass_delivers_more_than_a_batch_concurrently(store: Store) -> None:
    await add_alerts(store, 9, first=2)
    receiver = await Receiver().start()
    settings = DeliverySettings(batch_size=3, concurrency=2)
    try:
        assert await deliver(store, Endpoint("hook", receiver.url), Clock(START), settings) == (
            10,
            0,
        )
    finally:
        await receiver.close()
    assert len({d.headers["webhook-id"] for d in receiver.deliveries}) == 10


async def test_a_slack_endpoint_gets_blocks(store: Store) -> None:
    receiver = await Receiver().start()
    try:
        await deliver(store, Endpoint("hook", receiver.url, format="slack"), Clock(START))
    finally:
        await receiver.close()
    [delivery] = receiver.deliveries
    assert delivery.payload["text"] == "Talks"
    assert delivery.payload["blocks"][0]["type"] == "section"


def test_a_claim_can_be_sent_within_its_lease() -> None:
    default = DeliverySettings()
    assert default.claim_size() == 16  # 4 rounds of 15 s in a 60 s lease, 4 at a time
    assert DeliverySettings(lease_seconds=3600).claim_size() == 50  # the batch size caps it
    assert DeliverySettings(lease_seconds=20, concurrency=1).claim_size() == 1
    with pytest.raises(ValueError, match=r"lease_seconds .* must be longer than timeout_seconds"):
        DeliverySettings(lease_seconds=10)


async def test_an_alert_that_cannot_be_rendered_fails_on_schedule_until_dead(
    store: Store,
) -> None:
    # A row an older version queued with a payload the Slack renderer chokes on.
    async with store.db.writing() as session:
        session.add(
            AlertRow(
                id="poison",
                kind="digest",
                topic="t",
                endpoint="hook",
                status="pending",
                payload={"id": "poison", "type": "digest", "stories": "not a list"},
                attempts=0,
                next_attempt_at=START,
                created_at=START,
            )
        )
    receiver = await Receiver().start()
    clock = Clock(START)
    endpoint = Endpoint("hook", receiver.url, format="slack")
    try:
        for _ in range(5):
            await deliver(store, endpoint, clock)
            clock.advance(3600)
    finally:
        await receiver.close()
    # The good alert went out; the poison one failed each time it was due, then died.
    assert len(receiver.deliveries) == 1
    detail = await store.alert_detail("poison")
    assert detail is not None
    assert (detail.alert.status, detail.alert.attempts) == ("dead", 4)
    assert detail.alert.last_error is not None
    assert detail.alert.last_error.startswith("TypeError")


async def test_a_sender_renews_its_claim_while_a_receiver_is_slow(store: Store) -> None:
    settings = DeliverySettings(lease_seconds=0.6, timeout_seconds=0.55, concurrency=1)
    slow = await Receiver(delay_seconds=0.5).start()
    started = datetime.now(UTC)
    try:
        sending = asyncio.create_task(
            deliver(store, Endpoint("hook", slow.url), WallClock(), settings)
        )
        await asyncio.sleep(0.4)  # the POST is in flight; one renewal is due at 0.2 s
        async with store.db.sessions() as session:
            [held_until] = (await session.scalars(select(AlertRow.claimed_until))).all()
        assert await sending == (1, 0)
    finally:
        await slow.close()
    assert held_until is not None
    # The first claim ran to started + 0.6 s; a renewal at about 0.2 s moved it past 0.75 s.
    assert held_until > started + timedelta(seconds=0.75)


class WallClock:
    def __call__(self) -> datetime:
        return datetime.now(UTC)
