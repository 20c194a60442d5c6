"""Stories end to end: local feeds and article pages, a local webhook receiver, SQLite and
PostgreSQL. Three outlets carry one wire story under their own headlines and links."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from monitor.app.once import run_once
from monitor.app.resources import open_store
from tests.conftest import write_config
from tests.test_cli import monitor
from tests.test_pipeline import page_for
from tests.web import Item, Receiver, Site, rss

WIRE = [
    "The United States and Iraq opened talks on Thursday on the withdrawal of American troops "
    "from Iraq, the Pentagon said.",
    "The U.S.-Iraq Higher Military Commission will meet in Baghdad in the coming days to "
    "discuss the transition of the anti-ISIS coalition mission to a bilateral security "
    "partnership, officials said.",
    "About 2,500 U.S. troops are stationed in Iraq and 900 in neighbouring Syria, advising and "
    "assisting local forces against remnants of the Islamic State group.",
    "Iraqi Prime Minister Mohammed Shia al-Sudani has said the coalition's presence is no longer "
    "needed and that a timetable for its departure should be agreed.",
    "Iran-backed militias have attacked bases hosting American forces more than 150 times since "
    "October, and the United States has struck back inside Iraq several times.",
]
OUTLETS = [
    ("Wire Service", "US and Iraq open talks on the withdrawal of American troops", WIRE),
    (
        "Daily Courier",
        "Washington, Baghdad begin negotiating pullout of US forces",
        [*WIRE[:4], WIRE[4].replace("more than 150 times", "over 150 times")],
    ),
    (
        "Evening Globe",
        "Talks on American troop exit from Iraq get under way",
        [WIRE[0].replace("on Thursday ", ""), *WIRE[1:]],
    ),
]
PUBLISHED = datetime(2024, 1, 25, 18, 0, tzinfo=UTC)


def serve_outlets(site: Site, count: int = 3) -> list[str]:
    """One feed per outlet, each linking to its own copy of the wire story."""
    feeds = []
    for number, (name, headline, paragraphs) in enumerate(OUTLETS[:count]):
        page = page_for(site, f"/outlet{number}/story", headline, *paragraphs)
        item = Item(title=headline, link=page, description=paragraphs[0], published=PUBLISHED)
        feeds.append(site.serve(f"/outlet{number}.xml", rss([item], title=name)))
    return feeds


async def test_three_outlets_with_one_story_send_one_alert_naming_the_other_two(
    site: Site, receiver: Receiver, make_settings: Any
) -> None:
    feeds = serve_outlets(site)
    settings = make_settings(feeds, receiver.url)

    report = await run_once(settings)

    assert (report.cycle.new_articles, report.cycle.matches) == (3, 3)
    assert report.delivery.sent == 1
    [delivery] = receiver.deliveries
    alert = delivery.payload
    assert alert["type"] == "article.matched"
    story = alert["story"]
    assert story["article_count"] == 3
    others = [source for source in story["sources"] if source["url"] != alert["source"]["url"]]
    assert len(others) == 2
    assert {source["url"] for source in story["sources"]} == set(feeds)
    assert {source["title"] for source in others} | {alert["source"]["title"]} == {
        name for name, _, _ in OUTLETS
    }
    assert all(source["article_url"].startswith(site.url("/outlet")) for source in others)

    async with open_store(settings) as store:
        [listed] = await store.list_stories()
        assert (listed.id, listed.article_count, listed.source_count) == (story["id"], 3, 3)
        detail = await store.story_detail(listed.id)
        assert detail is not None
        _, articles = detail
        assert [article.reason for article in articles].count("new") == 1
        joined = [article for article in articles if article.reason != "new"]
        assert all(article.similarity and article.similarity >= 0.5 for article in joined)
        assert all(article.reason == "duplicate" for article in joined)

    again = await run_once(settings)
    assert (again.cycle.new_articles, again.delivery.sent) == (0, 0)


async def test_an_endpoint_with_story_updates_hears_when_more_outlets_carry_the_story(
    site: Site, make_settings: Any
) -> None:
    plain, updates = await Receiver().start(), await Receiver().start()
    try:
        feeds = serve_outlets(site)
        webhooks = [
            {"name": "plain", "url": plain.url},
            {"name": "updates", "url": updates.url, "story_updates": True},
        ]
        first = make_settings(feeds[:1], webhooks=webhooks)
        await run_once(first)
        assert [d.payload["type"] for d in plain.deliveries] == ["article.matched"]
        assert [d.payload["type"] for d in updates.deliveries] == ["article.matched"]

        later = make_settings(
            feeds,
            webhooks=webhooks,
            database_url=first.database_url,
            sections={"stories": {"update_after_sources": 2}},
        )
        await run_once(later)

        assert len(plain.deliveries) == 1  # later articles of the story only join it
        assert [d.payload["type"] for d in updates.deliveries] == [
            "article.matched",
            "story.updated",
        ]
        update = updates.deliveries[1].payload
        assert update["reasons"] == ["sources"]
        assert update["story"]["article_count"] == 3
        assert len(update["story"]["sources"]) == 3
        assert update["story"]["id"] == updates.deliveries[0].payload["story"]["id"]
    finally:
        await plain.close()
        await updates.close()


async def checked_once(site: Site, receiver: Receiver, tmp_path: Path, sqlite_url: str) -> Path:
    """A config of the three outlets and the receiver, checked once by ``monitor once``."""
    config = write_config(
        tmp_path / "monitor.toml",
        database_url=sqlite_url,
        feeds=serve_outlets(site),
        webhook_url=receiver.url,
    )
    assert (await monitor("--config", str(config), "once", cwd=tmp_path))[0] == 0
    return config


async def test_stories_list_and_show_explain_the_grouping(
    site: Site, receiver: Receiver, tmp_path: Path, sqlite_url: str
) -> None:
    config = await checked_once(site, receiver, tmp_path, sqlite_url)

    status, out, _ = await monitor("--config", str(config), "stories", "list", cwd=tmp_path)
    assert status == 0
    [header, row] = out.strip().splitlines()
    assert header.split()[:4] == ["ID", "LAST", "SEEN", "ARTICLES"]
    assert "us-iraq-security-talks: alert" in row
    story_id = row.split()[0]

    status, out, _ = await monitor(
        "--config", str(config), "stories", "show", story_id, cwd=tmp_path
    )
    assert status == 0
    assert "3 article(s) from 3 source(s)" in out
    assert out.count("started the story") == 1
    assert out.count("a copy of") == 2
    status, _, err = await monitor("--config", str(config), "stories", "show", "999", cwd=tmp_path)
    assert (status, err.strip()) == (1, "monitor: no story 999")


async def test_an_operator_splits_a_wrongly_grouped_article_and_it_alerts(
    site: Site, receiver: Receiver, tmp_path: Path, sqlite_url: str
) -> None:
    config = await checked_once(site, receiver, tmp_path, sqlite_url)
    [first] = receiver.deliveries
    story_id = first.payload["story"]["id"]
    _, out, _ = await monitor(
        "--config", str(config), "stories", "show", str(story_id), cwd=tmp_path
    )
    copies = [line.split()[0] for line in out.splitlines() if "a copy of" in line]
    assert len(copies) == 2

    status, out, _ = await monitor(
        "--config", str(config), "stories", "split", copies[0], cwd=tmp_path
    )
    assert status == 0
    assert f"article {copies[0]} left story {story_id} for story" in out
    assert "1 alert(s) queued" in out
    assert (await monitor("--config", str(config), "once", cwd=tmp_path))[0] == 0

    [_, second] = receiver.deliveries
    assert second.payload["type"] == "article.matched"
    assert second.payload["story"]["id"] != story_id
    assert second.payload["story"]["article_count"] == 1
    assert second.payload["title"] != first.payload["title"]
    status, out, _ = await monitor(
        "--config", str(config), "stories", "show", str(story_id), cwd=tmp_path
    )
    assert "2 article(s) from 2 source(s)" in out
    status, out, _ = await monitor(
        "--config", str(config), "stories", "split", copies[0], cwd=tmp_path
    )
    assert (status, "alone in story" in out) == (0, True)
