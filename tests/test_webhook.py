"""Delivery: signed POSTs the reference verifier accepts, retries on a schedule, dead letters."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta

import aiohttp
import pytest
from standardwebhooks import Webhook
from standardwebhooks.webhooks import WebhookVerificationError

from monitor.database import open_engine, upgrade_schema
from monitor.delivery import deliver_due, next_attempt
from monitor.records import NewArticle, TopicMatch
from monitor.settings import DeliverySettings
from monitor.store import Store
from monitor.webhook import Endpoint, signed_headers
from tests.web import Receiver

SECRET = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"
NOW = datetime(2024, 1, 26, 12, 0, tzinfo=UTC)


class Clock:
    """A clock the test moves by hand."""

    def __init__(self, now: datetime) -> None:
        self.now = now

    def __call__(self) -> datetime:
        return self.now


@pytest.fixture
async def store(sqlite_url: str) -> AsyncIterator[Store]:
    engine = open_engine(sqlite_url)
    await upgrade_schema(engine)
    store = Store(engine)
    await store.add_feed("https://news.example/rss", None, NOW)
    [feed] = await store.feeds_to_poll(None)
    article = NewArticle(
        feed_id=feed.id,
        guid="1",
        url="https://news.example/1",
        canonical_url="https://news.example/1",
        title="Talks",
        summary="",
        text="",
        published_at=None,
        language=None,
        matches=(TopicMatch("t", "alert", 2.0, ("Iraq",)),),
    )
    await store.save_article(article, ["default"], lambda i, m: {"id": i, "topic": m.topic}, NOW)
    yield store
    await engine.dispose()


def test_signatures_verify_with_the_reference_implementation() -> None:
    endpoint = Endpoint("default", "https://hooks.example", SECRET)
    now = datetime.now(UTC)
    body = '{"id":"msg_1","type":"article.matched"}'
    headers = signed_headers(endpoint, "msg_1", body, now)
    verifier = Webhook(SECRET)
    assert verifier.verify(body, headers) == {"id": "msg_1", "type": "article.matched"}
    with pytest.raises(WebhookVerificationError):
        verifier.verify(body.replace("msg_1", "msg_2"), headers)
    with pytest.raises(WebhookVerificationError):
        verifier.verify(body, {**headers, "webhook-id": "msg_2"})
    stale = signed_headers(endpoint, "msg_1", body, now - timedelta(hours=1))
    with pytest.raises(WebhookVerificationError, match="too old"):
        verifier.verify(body, stale)


def test_no_secret_means_no_signature_and_the_secret_never_shows() -> None:
    assert "webhook-signature" not in signed_headers(
        Endpoint("default", "https://hooks.example", None), "m", "{}", NOW
    )
    assert "MfKQ" not in repr(Endpoint("default", "https://hooks.example", SECRET))


def test_the_retry_schedule_ends() -> None:
    schedule = (5.0, 300.0)
    assert next_attempt(1, schedule, NOW) == NOW + timedelta(seconds=5)
    assert next_attempt(2, schedule, NOW) == NOW + timedelta(seconds=300)
    assert next_attempt(3, schedule, NOW) is None


async def test_a_receiver_that_fails_twice_gets_the_alert_on_the_third_try(
    store: Store,
) -> None:
    receiver = await Receiver(statuses=[500, 503]).start()
    clock = Clock(NOW)
    settings = DeliverySettings(retry_seconds=(5, 300))
    endpoints = [Endpoint("default", receiver.url, SECRET)]
    try:
        async with aiohttp.ClientSession() as http:
            assert (await deliver_due(store, http, endpoints, settings, clock)).failed == 1
            assert (await deliver_due(store, http, endpoints, settings, clock)).failed == 0
            clock.now += timedelta(seconds=5)
            assert (await deliver_due(store, http, endpoints, settings, clock)).failed == 1
            clock.now += timedelta(seconds=299)
            assert (await deliver_due(store, http, endpoints, settings, clock)).sent == 0
            clock.now += timedelta(seconds=1)
            assert (await deliver_due(store, http, endpoints, settings, clock)).sent == 1
    finally:
        await receiver.close()
    assert len(receiver.deliveries) == 3
    assert len({d.headers["webhook-id"] for d in receiver.deliveries}) == 1
    assert [d.headers["webhook-timestamp"] for d in receiver.deliveries] == [
        str(int(NOW.timestamp())),
        str(int(NOW.timestamp()) + 5),
        str(int(NOW.timestamp()) + 305),
    ]
    [alert] = await store.list_alerts(status="delivered")
    assert alert.attempts == 3


async def test_an_alert_is_dead_after_the_last_attempt(store: Store) -> None:
    receiver = await Receiver(statuses=[500] * 10).start()
    clock = Clock(NOW)
    settings = DeliverySettings(retry_seconds=(5,))
    endpoints = [Endpoint("default", receiver.url, None)]
    try:
        async with aiohttp.ClientSession() as http:
            await deliver_due(store, http, endpoints, settings, clock)
            clock.now += timedelta(seconds=5)
            await deliver_due(store, http, endpoints, settings, clock)
            clock.now += timedelta(days=7)
            await deliver_due(store, http, endpoints, settings, clock)
    finally:
        await receiver.close()
    assert len(receiver.deliveries) == 2
    [dead] = await store.list_alerts(status="dead")
    assert dead.last_error == "HTTP 500 Internal Server Error"


async def test_a_redirect_is_a_failure_and_is_not_followed(store: Store) -> None:
    receiver = await Receiver(statuses=[302]).start()
    try:
        async with aiohttp.ClientSession() as http:
            report = await deliver_due(
                store,
                http,
                [Endpoint("default", receiver.url, None)],
                DeliverySettings(),
                Clock(NOW),
            )
    finally:
        await receiver.close()
    assert (report.sent, report.failed) == (0, 1)


async def test_alerts_wait_while_no_webhook_is_configured(store: Store) -> None:
    async with aiohttp.ClientSession() as http:
        report = await deliver_due(
            store, http, [Endpoint("default", None, None)], DeliverySettings(), Clock(NOW)
        )
    assert (report.sent, report.failed, report.waiting) == (0, 0, 1)
    [alert] = await store.list_alerts()
    assert (alert.status, alert.attempts) == ("pending", 0)


async def test_one_pass_delivers_more_than_a_batch(store: Store) -> None:
    [feed] = await store.feeds_to_poll(None)
    for number in range(2, 6):
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
        await store.save_article(article, ["default"], lambda i, m: {"id": i}, NOW)
    receiver = await Receiver().start()
    try:
        async with aiohttp.ClientSession() as http:
            report = await deliver_due(
                store,
                http,
                [Endpoint("default", receiver.url, None)],
                DeliverySettings(batch_size=2),
                Clock(NOW),
            )
    finally:
        await receiver.close()
    assert report.sent == 5
    assert len({d.headers["webhook-id"] for d in receiver.deliveries}) == 5
