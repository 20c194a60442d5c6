"""End to end on the embedded default: local feeds, article pages and webhook receiver, a real
SQLite file, and ``run_once`` as ``monitor once`` runs it."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import structlog
from aiohttp import web
from standardwebhooks import Webhook

from monitor.app.once import run_once
from monitor.app.resources import open_store
from tests.web import Item, Receiver, Site, rss

SEED_TITLE = "U.S. initiates talks with Iraq on withdrawal of American troops from country"
SEED_LEAD = (
    "The United States officially confirmed the start of negotiations on the withdrawal of its "
    "troops from Iraq, reports the Pentagon."
)
UNRELATED = Item(
    title="Heatwave grips southern Europe as wildfires spread",
    link="https://news.example/weather",
    description="Temperatures passed 44C in Sicily on Sunday.",
)
SECRET = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"


def serve_seed(
    site: Site,
    fixtures_dir: Path,
    *,
    feed_path: str = "/feed.xml",
    link_query: str = "",
    extra: tuple[Item, ...] = (),
) -> str:
    """A feed whose first item is the seed story, its article page on the same site."""
    page = site.serve(
        "/news/us-iraq-talks",
        (fixtures_dir / "seed-article.html").read_bytes(),
        content_type="text/html; charset=utf-8",
    )
    seed = Item(
        title=SEED_TITLE,
        link=page + link_query,
        description=SEED_LEAD,
        published=datetime(2024, 1, 25, 18, 0, tzinfo=UTC),
    )
    return site.serve(feed_path, rss([seed, *extra]))


async def test_the_seed_story_alerts_once(
    site: Site, receiver: Receiver, fixtures_dir: Path, make_settings: Any
) -> None:
    feed = serve_seed(site, fixtures_dir, extra=(UNRELATED,))
    settings = make_settings([feed], receiver.url, webhook_secret=SECRET)

    first = await run_once(settings)

    assert (first.cycle.feeds, first.cycle.failed, first.cycle.matches) == (1, 0, 1)
    assert (first.delivery.sent, first.delivery.failed) == (1, 0)
    [delivery] = receiver.deliveries
    alert = delivery.payload
    assert alert["type"] == "article.matched"
    assert alert["topic"] == "us-iraq-security-talks"
    assert alert["title"] == SEED_TITLE
    assert alert["url"] == site.url("/news/us-iraq-talks")
    assert alert["source"] == {"title": "Test feed", "url": feed}
    assert alert["published_at"] == "2024-01-25T18:00:00Z"
    assert "Higher Military Commission" in alert["summary"]
    assert "withdrawal" in alert["summary"]
    assert alert["level"] == "alert"
    assert {"Iraq*", "withdraw*", "Higher Military Commission"} <= set(alert["matched_terms"])
    assert {"named talks", "withdrawal"} <= set(alert["matched_rules"])
    assert alert["score"] > 0
    assert delivery.headers["webhook-id"] == alert["id"]
    # The reference implementation of Standard Webhooks accepts our signature.
    assert Webhook(SECRET).verify(delivery.body, delivery.headers) == alert

    second = await run_once(settings)
    assert (second.cycle.new_articles, second.delivery.sent) == (0, 0)
    assert len(receiver.deliveries) == 1
    assert site.hits("/news/us-iraq-talks") == 1  # known stories are not fetched again


async def test_the_same_story_with_a_tracking_link_in_another_feed_is_not_sent_again(
    site: Site, receiver: Receiver, fixtures_dir: Path, make_settings: Any
) -> None:
    first_feed = serve_seed(site, fixtures_dir)
    second_feed = site.serve(
        "/other.xml",
        rss(
            [
                Item(
                    title="US, Iraq open talks on American troop withdrawal",
                    link=site.url("/news/us-iraq-talks") + "?utm_source=rss&utm_medium=feed",
                    description=SEED_LEAD,
                    guid="other-feed-guid-1",
                ),
            ],
            title="Other outlet",
        ),
    )
    settings = make_settings([first_feed], receiver.url)
    await run_once(settings)
    assert len(receiver.deliveries) == 1

    both = make_settings(
        [first_feed, second_feed], receiver.url, database_url=settings.database_url
    )
    report = await run_once(both)

    assert (report.cycle.feeds, report.cycle.new_articles, report.delivery.sent) == (2, 0, 0)
    assert len(receiver.deliveries) == 1


async def test_two_feeds_with_the_same_story_in_one_cycle_alert_once(
    site: Site, receiver: Receiver, fixtures_dir: Path, make_settings: Any
) -> None:
    first_feed = serve_seed(site, fixtures_dir)
    second_feed = serve_seed(
        site, fixtures_dir, feed_path="/copy.xml", link_query="?utm_source=twitter"
    )
    report = await run_once(make_settings([first_feed, second_feed], receiver.url))
    assert report.delivery.sent == 1
    assert len(receiver.deliveries) == 1


async def test_an_unrelated_story_sends_nothing(
    site: Site, receiver: Receiver, make_settings: Any
) -> None:
    site.serve("/weather", "<html><body><p>Hot.</p></body></html>", content_type="text/html")
    feed = site.serve("/feed.xml", rss([UNRELATED]))
    report = await run_once(make_settings([feed], receiver.url))
    assert (report.cycle.matches, report.delivery.sent) == (0, 0)
    assert receiver.deliveries == []
    assert site.hits("/weather") == 0  # pages are fetched only for stories that may match


async def test_broken_feeds_do_not_stop_the_others(
    site: Site, receiver: Receiver, fixtures_dir: Path, make_settings: Any
) -> None:
    async def hang(_request: web.Request) -> web.Response:
        await asyncio.sleep(30)
        return web.Response(text="too late")

    broken = {
        "HTTP 500": site.serve("/500.xml", "oops", status=500),
        "timed out": site.handle("/slow.xml", hang),
        "not a feed": site.serve(
            "/page.xml",
            "<html><head><title>Home</title></head><body><p>Welcome to our site</p></body></html>",
            content_type="text/html",
        ),
        "garbage": site.serve(
            "/garbage.xml", bytes(range(256)) * 40, content_type="application/octet-stream"
        ),
    }
    good = serve_seed(site, fixtures_dir)
    settings = make_settings([*broken.values(), good], receiver.url)

    with structlog.testing.capture_logs([structlog.contextvars.merge_contextvars]) as logs:
        report = await run_once(settings)

    assert (report.cycle.feeds, report.cycle.failed) == (5, 4)
    assert report.delivery.sent == 1
    assert len(receiver.deliveries) == 1
    failures = {
        entry["feed_url"]: entry["error"] for entry in logs if entry["event"] == "feed check failed"
    }
    assert set(failures) == set(broken.values())
    assert "HTTP 500" in failures[broken["HTTP 500"]]
    assert "timed out" in failures[broken["timed out"]]
    assert "not a feed" in failures[broken["not a feed"]]
    assert "not a feed" in failures[broken["garbage"]]


async def test_an_unreachable_article_page_falls_back_to_the_feed_text(
    site: Site, receiver: Receiver, make_settings: Any
) -> None:
    feed = site.serve(
        "/feed.xml",
        rss(
            [
                Item(
                    title=SEED_TITLE,
                    link=site.url("/gone"),
                    description=SEED_LEAD
                    + " The U.S.-Iraq Higher Military Commission will meet in the "
                    "coming days to discuss the transition of the coalition mission.",
                )
            ]
        ),
    )
    report = await run_once(make_settings([feed], receiver.url))
    assert report.delivery.sent == 1
    assert "Higher Military Commission" in receiver.deliveries[0].payload["summary"]


async def test_a_failed_delivery_stays_pending_and_is_retried(
    site: Site, fixtures_dir: Path, make_settings: Any
) -> None:
    receiver = await Receiver(statuses=[503]).start()
    try:
        feed = serve_seed(site, fixtures_dir)
        settings = make_settings(
            [feed], receiver.url, sections={"delivery": {"retry_seconds": [0]}}
        )
        first = await run_once(settings)
        assert (first.delivery.sent, first.delivery.failed) == (0, 1)
        second = await run_once(settings)
        assert (second.delivery.sent, second.delivery.failed) == (1, 0)
        ids = {delivery.headers["webhook-id"] for delivery in receiver.deliveries}
        assert len(receiver.deliveries) == 2
        assert len(ids) == 1  # the retry carries the same id
    finally:
        await receiver.close()


async def test_conditional_get_sends_back_the_validators(
    site: Site, receiver: Receiver, make_settings: Any
) -> None:
    body = rss([UNRELATED])
    seen: list[dict[str, str]] = []

    async def feed(request: web.Request) -> web.Response:
        seen.append(dict(request.headers))
        if request.headers.get("If-None-Match") == '"v1"':
            return web.Response(status=304)
        return web.Response(
            text=body,
            content_type="application/rss+xml",
            headers={"ETag": '"v1"', "Last-Modified": "Fri, 26 Jan 2024 09:00:00 GMT"},
        )

    settings = make_settings([site.handle("/feed.xml", feed)], receiver.url)
    await run_once(settings)
    await run_once(settings)
    assert "If-None-Match" not in seen[0]
    assert seen[1]["If-None-Match"] == '"v1"'
    assert seen[1]["If-Modified-Since"] == "Fri, 26 Jan 2024 09:00:00 GMT"


def page_for(site: Site, path: str, title: str, *paragraphs: str) -> str:
    body = "".join(f"<p>{text}</p>" for text in paragraphs)
    html = f"<html lang='en'><head><title>{title}</title></head><body><article><h1>{title}</h1>"
    return site.serve(path, html + body + "</article></body></html>", content_type="text/html")


async def test_levels_alert_digest_and_nothing(
    site: Site, receiver: Receiver, fixtures_dir: Path, make_settings: Any
) -> None:
    related = Item(
        title="Drone attack targets base hosting US troops in western Iraq",
        link=page_for(
            site,
            "/attack",
            "Drone attack targets base hosting US troops in western Iraq",
            "Two drones were shot down near Ain al-Asad air base on Tuesday, a US official said.",
            "No casualties were reported.",
        ),
        description="Two drones were shot down near Ain al-Asad air base, a US official said.",
    )
    look_alikes = [
        Item(
            title="US troops to withdraw from Niger by September",
            link=page_for(
                site,
                "/niger",
                "US troops to withdraw from Niger",
                "The Pentagon agreed to pull out about 1,000 troops.",
            ),
            description="The Pentagon agreed to pull out about 1,000 troops from Niger.",
        ),
        Item(
            title="ISIS fighters attack Syrian army positions near Deir ez-Zor",
            link=page_for(site, "/syria", "ISIS attack in Syria", "Fighting went on all day."),
            description="The Islamic State group remains active in eastern Syria.",
        ),
        Item(
            title="Iraq holds provincial elections for first time in a decade",
            link=page_for(site, "/elections", "Iraq votes", "Turnout was 41 percent."),
            description="Voters chose provincial councils across Iraq.",
        ),
    ]
    feed = serve_seed(site, fixtures_dir, extra=(related, *look_alikes))
    settings = make_settings([feed], receiver.url)

    report = await run_once(settings)

    assert (report.cycle.new_articles, report.cycle.matches) == (2, 2)
    assert [d.payload["title"] for d in receiver.deliveries] == [SEED_TITLE]  # digest: no ping
    async with open_store(settings) as store:
        [(level, rules)] = await store.match_levels(site.url("/attack"))
        assert (level, "attacks" in rules) == ("digest", True)
        [(level, rules)] = await store.match_levels(site.url("/news/us-iraq-talks"))
        assert level == "alert"
    for path in ("/niger", "/syria", "/elections"):
        assert site.hits(path) == 0  # the headline alone ruled them out
