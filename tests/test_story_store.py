"""Stories in the store, on SQLite and PostgreSQL: grouping decided in the article's
transaction, one alert per story, updates, and two writers racing on one new story."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Callable
from dataclasses import replace
from datetime import UTC, datetime, timedelta

import pytest

from monitor.records import NewArticle, TopicMatch
from monitor.store.engine import open_engine, upgrade_schema
from monitor.store.facade import SplitOutcome, Store
from monitor.stories.fingerprint import fingerprint
from monitor.stories.settings import StorySettings

NOW = datetime(2024, 1, 26, 12, 0, tzinfo=UTC)
ALERT = TopicMatch("talks", "alert", 5.0, ("Iraq",), ("withdrawal",))
DIGEST = TopicMatch("talks", "digest", 2.0, ("Iraq",), ("attacks",))
WIRE = (
    "The United States and Iraq opened talks on Thursday on the withdrawal of American troops "
    "from Iraq, the Pentagon said. The Higher Military Commission will meet in Baghdad in the "
    "coming days to discuss the transition of the coalition mission to a bilateral security "
    "partnership. About 2,500 U.S. troops are stationed in Iraq and 900 in Syria."
)
OTHER = (
    "A drone attack on Ain al-Asad air base in western Iraq wounded two American service "
    "members on Sunday, a U.S. official said. Kataib Hezbollah claimed the attack, saying it "
    "was revenge for U.S. support for Israel. No group has claimed a second drone."
)

THIRD = (
    "The Senate voted 66 to 30 on Wednesday to repeal the 1991 and 2002 authorizations for the "
    "use of military force against Iraq, sending the measure to the House. Supporters said the "
    "laws were obsolete; opponents warned of threats from Iranian proxies."
)
FOURTH = (
    "Rockets struck near the U.S. embassy in Baghdad's Green Zone early on Friday, setting off "
    "sirens, Iraqi security sources said. Embassy spokespeople did not immediately respond. The "
    "compound has been targeted repeatedly since October."
)
RACES = [
    ("US, Iraq open talks on troop withdrawal", WIRE),
    ("Drone attack wounds US troops at Iraq base", OTHER),
    ("Senate votes to repeal Iraq war authorizations", THIRD),
    ("Rockets hit near US embassy in Baghdad", FOURTH),
]


def article(
    feed: int,
    number: int,
    title: str,
    text: str,
    match: TopicMatch = ALERT,
    published: datetime = NOW,
) -> NewArticle:
    url = f"https://www.outlet{feed}.com/{number}"
    return NewArticle(
        feed_id=feed,
        guid=url,
        url=url,
        canonical_url=url,
        title=title,
        summary=text[:80],
        text=text,
        published_at=published,
        language="en",
        matches=(match,),
        fingerprint=fingerprint(title, text),
        source_title=f"Outlet {feed}",
    )


def to(*endpoints: str) -> Callable[[str], tuple[str, ...]]:
    return lambda _topic: endpoints


@pytest.fixture
async def store(database_url: str) -> AsyncIterator[Store]:
    engine = open_engine(database_url)
    await upgrade_schema(engine)
    yield Store(engine)
    await engine.dispose()


async def feeds(store: Store, count: int) -> list[int]:
    for number in range(count):
        await store.add_feed(f"https://outlet{number}.example/feed", None, NOW)
    return sorted(feed.id for feed in await store.feeds_to_poll(None))


async def test_a_copy_joins_the_story_without_alerting_and_the_pending_alert_lists_it(
    store: Store,
) -> None:
    first, second = await feeds(store, 2)
    assert (
        await store.save_article(article(first, 1, "US, Iraq open talks", WIRE), to("a"), NOW) == 1
    )
    copy = article(second, 1, "Talks on US troop exit begin", WIRE.replace("Thursday", "Friday"))
    assert await store.save_article(copy, to("a"), NOW) == 0

    [story] = await store.list_stories()
    assert (story.article_count, story.source_count) == (2, 2)
    assert story.levels[0][:2] == ("talks", "alert")
    detail = await store.story_detail(story.id)
    assert detail is not None
    original, joined = detail[1]
    assert (original.reason, joined.reason) == ("new", "duplicate")
    assert joined.closest_article_id == original.id
    assert joined.similarity is not None
    assert joined.similarity > 0.5
    assert "higher" in joined.shared or "commission" in joined.shared

    [alert] = await store.list_alerts()
    shown = await store.alert_detail(alert.id)
    assert shown is not None
    sources = shown.payload["story"]["sources"]
    assert shown.payload["story"]["article_count"] == 2
    assert [source["title"] for source in sources] == ["Outlet 1", "Outlet 2"]


async def test_two_feeds_of_one_outlet_are_one_source(store: Store) -> None:
    world, politics, other = await feeds(store, 3)
    first = article(world, 1, "US, Iraq open talks", WIRE)
    moved = f"https://feeds.outlet{world}.com/politics/2"
    same_site = replace(
        article(politics, 2, "Talks on US troop exit begin", WIRE),
        guid=moved,
        url=moved,
        canonical_url=moved,
    )
    elsewhere = article(other, 3, "US and Iraq start troop talks", WIRE)
    for new in (first, same_site, elsewhere):
        await store.save_article(new, to("a"), NOW)

    [story] = await store.list_stories()
    assert (story.article_count, story.source_count) == (3, 2)
    [alert] = await store.list_alerts()
    shown = await store.alert_detail(alert.id)
    assert shown is not None
    sources = shown.payload["story"]["sources"]
    assert [source["article_url"] for source in sources] == [first.url, elsewhere.url]


async def test_a_digest_lists_a_story_once_and_leaves_out_stories_already_alerted(
    store: Store,
) -> None:
    await store.ensure_endpoints(["ops"])
    ids = await feeds(store, 4)
    headlines = ["US, Iraq open talks", "Talks on US troop exit begin", "US and Iraq start talks"]
    for number, (feed, headline) in enumerate(zip(ids, headlines, strict=False)):
        await store.save_article(article(feed, number, headline, WIRE, DIGEST), to(), NOW)
    # A story the endpoint had an alert for: its later digest-level copy is not repeated.
    alerted = article(ids[0], 10, "Drone attack wounds US troops", OTHER)
    await store.save_article(alerted, to("ops"), NOW)
    copy = article(ids[3], 11, "US troops wounded in drone attack", OTHER, DIGEST)
    await store.save_article(copy, to("ops"), NOW)

    assert len(await store.list_stories()) == 2
    digest_id = await store.queue_digest("ops", [], NOW)
    assert digest_id is not None
    shown = await store.alert_detail(digest_id)
    assert shown is not None
    [entry] = shown.payload["stories"]
    assert entry["title"] == headlines[0]
    assert entry["story"]["article_count"] == 3
    assert [s["article_title"] for s in entry["story"]["sources"]] == headlines


async def test_an_article_split_off_its_story_alerts_as_a_story_of_its_own(
    store: Store,
) -> None:
    first, second = await feeds(store, 2)
    await store.save_article(article(first, 1, "US, Iraq open talks", WIRE), to("a"), NOW)
    joined = article(second, 2, "Talks on US troop exit begin", WIRE)
    assert await store.save_article(joined, to("a"), NOW) == 0
    [story] = await store.list_stories()
    detail = await store.story_detail(story.id)
    assert detail is not None
    original, wrongly = detail[1]

    outcome = await store.split_article(wrongly.id, to("a", "b"), NOW)
    assert outcome is not None
    assert outcome.left_story_id == story.id
    assert outcome.alerts == 2
    stories = {found.id: found for found in await store.list_stories()}
    assert (stories[story.id].article_count, stories[story.id].source_count) == (1, 1)
    assert stories[outcome.story_id].article_count == 1
    alerts = [a for a in await store.list_alerts() if a.title == "Talks on US troop exit begin"]
    assert sorted(alert.endpoint for alert in alerts) == ["a", "b"]
    shown = await store.alert_detail(alerts[0].id)
    assert shown is not None
    assert shown.payload["source"]["title"] == "Outlet 2"
    assert shown.payload["story"]["id"] == outcome.story_id
    moved = await store.story_detail(outcome.story_id)
    assert moved is not None
    assert [(a.id, a.reason, a.closest_article_id) for a in moved[1]] == [
        (wrongly.id, "split", original.id)
    ]

    # Alone in its story now: splitting again changes nothing.
    again = await store.split_article(wrongly.id, to("a"), NOW)
    assert again == SplitOutcome(story_id=outcome.story_id, left_story_id=None, alerts=0)
    assert await store.split_article(999_999, to("a"), NOW) is None


async def test_an_article_that_alerted_is_not_alerted_again_when_split_off(store: Store) -> None:
    first, second = await feeds(store, 2)
    alerted = article(first, 1, "US, Iraq open talks", WIRE)
    await store.save_article(alerted, to("a"), NOW)
    await store.save_article(article(second, 2, "Talks on troop exit", WIRE), to("a"), NOW)
    [story] = await store.list_stories()
    detail = await store.story_detail(story.id)
    assert detail is not None
    outcome = await store.split_article(detail[1][0].id, to("a"), NOW)
    assert outcome is not None
    assert (outcome.left_story_id, outcome.alerts) == (story.id, 0)
    assert len(await store.list_alerts()) == 1


async def test_terms_only_a_candidate_has_weigh_by_how_common_they_are(store: Store) -> None:
    """The stored article's routine wording ("officials said in a statement...") is common
    among stored articles and must weigh as little as it does in the pure decision, or it
    drowns what the two reports share."""
    [feed] = await feeds(store, 1)
    routine = (
        "Officials at the Pentagon said in a statement on Tuesday that the military operation "
        "continued as planned, according to a spokesperson for the department, who added that "
        "forces remained on alert across the region."
    )
    earlier = NOW - timedelta(days=10)  # counted, but outside the window
    for number in range(60):
        filler = article(feed, number, f"Report {number} on regional security", routine, DIGEST)
        await store.save_article(replace(filler, published_at=earlier), to(), NOW)
    visit = article(feed, 100, "Austin lands in Baghdad", "Lloyd Austin arrived. " + routine)
    await store.save_article(visit, to("a"), NOW)
    report = article(
        feed,
        101,
        "Austin in Baghdad",
        "Lloyd Austin met Iraqi leaders on an unannounced visit.",
        published=NOW + timedelta(hours=1),
    )
    assert await store.save_article(report, to("a"), NOW + timedelta(hours=1)) == 0

    [story, *_] = await store.list_stories()
    assert story.article_count == 2
    detail = await store.story_detail(story.id)
    assert detail is not None
    assert [found.reason for found in detail[1]] == ["new", "event"]


async def test_different_events_with_the_same_actors_stay_apart(store: Store) -> None:
    first, second = await feeds(store, 2)
    talks = article(first, 1, "US, Iraq open talks on troop withdrawal", WIRE)
    attack = article(second, 1, "Drone attack wounds US troops at Iraq base", OTHER)
    assert await store.save_article(talks, to("a"), NOW) == 1
    assert await store.save_article(attack, to("a"), NOW) == 1
    assert len(await store.list_stories()) == 2


async def test_an_article_outside_the_window_starts_a_new_story(store: Store) -> None:
    first, second = await feeds(store, 2)
    await store.save_article(article(first, 1, "US, Iraq open talks", WIRE), to("a"), NOW)
    later = NOW + timedelta(hours=49)
    copy = article(second, 1, "US, Iraq open talks", WIRE, published=later)
    assert await store.save_article(copy, to("a"), later) == 1
    assert len(await store.list_stories()) == 2


async def test_a_story_raised_from_digest_to_alert(store: Store) -> None:
    first, second = await feeds(store, 2)
    early = article(first, 1, "US, Iraq open talks", WIRE, match=DIGEST)
    assert await store.save_article(early, to("plain", "updates"), NOW) == 0
    raised = article(second, 1, "Talks on US troop exit begin", WIRE)
    sent = await store.save_article(raised, to("plain", "updates"), NOW, story_updates={"updates"})
    assert sent == 2
    kinds = {alert.endpoint: alert.kind for alert in await store.list_alerts()}
    assert kinds == {"plain": "article.matched", "updates": "story.updated"}
    [update] = [alert for alert in await store.list_alerts() if alert.endpoint == "updates"]
    shown = await store.alert_detail(update.id)
    assert shown is not None
    assert (shown.payload["type"], shown.payload["reasons"]) == ("story.updated", ["level"])


async def test_updates_follow_the_number_of_new_sources(store: Store) -> None:
    ids = await feeds(store, 5)
    settings = StorySettings(update_after_sources=2)
    sent = []
    for number, feed in enumerate(ids):
        copy = article(feed, number, f"Talks on troops, take {'I' * (number + 1)}", WIRE)
        sent.append(
            await store.save_article(
                copy,
                to("plain", "updates"),
                NOW,
                stories=settings,
                story_updates={"updates"},
            )
        )
    # The first alerts both; the third and fifth outlets are two more each time.
    assert sent == [2, 0, 1, 0, 1]


async def test_two_writers_racing_on_one_new_story_make_one_story_and_one_alert(
    database_url: str,
) -> None:
    """Two stores on two engines stand for two replicas: each saves one copy of the same new
    story at the same moment. The database decides; one of them joins the other's story."""
    engines = [open_engine(database_url), open_engine(database_url)]
    await upgrade_schema(engines[0])
    replicas = [Store(engine) for engine in engines]
    try:
        first, second = await feeds(replicas[0], 2)
        for number, (title, text) in enumerate(RACES):
            copies = [article(first, number, title, text), article(second, number, title, text)]
            results = await asyncio.gather(
                *(
                    replica.save_article(copy, to("a"), NOW)
                    for replica, copy in zip(replicas, copies, strict=True)
                )
            )
            assert sorted(results) == [0, 1]
        stories = await replicas[0].list_stories()
        assert len(stories) == len(RACES)
        assert all(story.article_count == 2 for story in stories)
        assert len(await replicas[0].list_alerts()) == len(RACES)
    finally:
        for engine in engines:
            await engine.dispose()


async def test_old_lookup_keys_are_forgotten_and_recent_ones_still_group(store: Store) -> None:
    first, second, third = await feeds(store, 3)
    old = NOW - timedelta(days=10)
    await store.save_article(
        article(first, 1, "US, Iraq open talks", WIRE, published=old), to("a"), NOW
    )
    await store.save_article(article(second, 1, "Drone attack at Iraq base", OTHER), to("a"), NOW)
    assert await store.forget_story_keys(before=NOW - timedelta(days=5)) > 0
    assert await store.forget_story_keys(before=NOW - timedelta(days=5)) == 0
    copy = article(third, 1, "Drones hit US troops in Iraq", OTHER.replace("Sunday", "Monday"))
    assert await store.save_article(copy, to("a"), NOW) == 0  # joined the recent story
    assert len(await store.list_stories()) == 2
