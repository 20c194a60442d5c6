"""The middle zone of story grouping and an operator's merges, on SQLite and PostgreSQL: an
article likely (not surely) reporting an alerted event still alerts, marked as a follow-up and
rendered as one line in Slack and Discord; ``stories merge`` joins two stories in one
transaction so the merged story's later articles do not alert again; ``split`` undoes it."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from dataclasses import replace
from pathlib import Path

import pytest

from monitor.cli.main import main
from monitor.deliver.formats import render
from monitor.deliver.payloads import render_payload
from monitor.records import TopicMatch
from monitor.store.engine import open_engine, upgrade_schema
from monitor.store.facade import MergeRefusedError, Store
from monitor.stories.evidence import actions, figures
from monitor.stories.fingerprint import fingerprint
from monitor.stories.grouping import Candidate, decide, rarity
from monitor.stories.settings import StorySettings
from tests.conftest import write_config
from tests.test_story_store import NOW, OTHER, WIRE, article, feeds, to

# Two reports of one visit in other words: close, but not close enough to be sure.
SURPRISE = (
    "Pentagon chief, on surprise trip, says US troops to stay in Iraq",
    "In Baghdad, Secretary of Defense Lloyd Austin pledges continued US troop presence in "
    "fight against ISIL.",
)
UNANNOUNCED = (
    "US defense secretary makes unannounced trip to Iraq",
    "US Secretary of Defense Lloyd Austin made an unannounced trip to Baghdad on Tuesday, "
    "according to the US press pool traveling with him.",
)
# Sure only at 0.9; likely from 0.15: the zone these two reports fall in.
ZONE = StorySettings(event_similarity=0.9, related_similarity=0.15)


@pytest.fixture
async def store(database_url: str) -> AsyncIterator[Store]:
    engine = open_engine(database_url)
    await upgrade_schema(engine)
    yield Store(engine)
    await engine.dispose()


def test_the_evidence_names_the_action_the_figures_and_the_day() -> None:
    assert actions("US strikes militias in Iraq after drone attack on base") == ("strike",)
    assert actions("Drone attack wounds US troops at Iraq base")[0] == "attack"
    tuesday = NOW.replace(day=23)  # a Tuesday
    found = figures("Three troops were hurt on Monday; 2003 and Dec. 7 were mentioned.", tuesday)
    assert found == {"3", "date 01-22", "date 12-07"}


def test_an_article_between_sure_and_different_starts_a_story_marked_related() -> None:
    earlier = Candidate(1, 7, NOW, fingerprint(SURPRISE[0], SURPRISE[1], at=NOW))
    later = fingerprint(UNANNOUNCED[0], UNANNOUNCED[1], at=NOW)
    decision = decide(later, NOW, [earlier], rarity({}, 0), ZONE)
    assert (decision.story_id, decision.reason, decision.related_story_id) == (None, "related", 7)
    assert decision.article_id == 1
    assert "action visit" in decision.shared
    # Below the zone it is a story of its own, unmarked; above it, the same story.
    apart = decide(later, NOW, [earlier], rarity({}, 0), replace_zone(0.9, 0.85))
    assert (apart.reason, apart.related_story_id) == ("new", None)
    same = decide(later, NOW, [earlier], rarity({}, 0), replace_zone(0.16, 0.15))
    assert (same.story_id, same.reason) == (7, "event")


def replace_zone(sure: float, likely: float) -> StorySettings:
    return ZONE.model_copy(update={"event_similarity": sure, "related_similarity": likely})


async def test_a_likely_follow_up_alerts_carries_its_related_story_and_renders_as_one_line(
    store: Store,
) -> None:
    first, second, third = await feeds(store, 3)
    alerted = article(first, 1, *SURPRISE)
    assert await store.save_article(alerted, to("a"), NOW, stories=ZONE) == 1
    copy = article(third, 3, *SURPRISE)  # the same wire copy at a third outlet
    assert await store.save_article(copy, to("a"), NOW, stories=ZONE) == 0
    follow_up = article(second, 2, *UNANNOUNCED)
    # A wrong merge must never silence news: it alerts, though likely the same event.
    assert await store.save_article(follow_up, to("a"), NOW, stories=ZONE) == 1

    stories = await store.list_stories()
    assert len(stories) == 2
    original = next(story for story in stories if story.title == SURPRISE[0])
    claimed = await store.claim_due("a", NOW, 10, 60)
    marked = next(
        alert for alert in claimed if alert.article and alert.article.title.startswith("US")
    )
    first_alert = next(alert for alert in claimed if alert is not marked)
    assert first_alert.related_story is None
    assert marked.related_story is not None
    assert (marked.related_story.id, marked.related_story.title) == (original.id, SURPRISE[0])
    assert marked.related_story.source_count == 3  # two outlets of the story, and this one
    assert "action visit" in marked.related_story.shared

    payload = render_payload(marked)
    assert payload["related_story"]["id"] == original.id
    assert payload["related_story"]["source_count"] == 3
    assert "related_story" not in render_payload(first_alert)

    slack = render(payload, "slack")
    line = f"Likely the same story as “{SURPRISE[0]}”, now 3 outlets"
    assert [block["type"] for block in slack["blocks"]] == ["context"]
    assert line in slack["blocks"][0]["elements"][0]["text"]
    assert UNANNOUNCED[0] in slack["blocks"][0]["elements"][0]["text"]
    full = render(render_payload(first_alert), "slack")
    assert full["blocks"][0]["type"] == "section"  # a headline card

    discord = render(payload, "discord")
    assert "embeds" not in discord
    assert line in discord["content"]
    assert render(render_payload(first_alert), "discord")["embeds"]

    links = await store.story_links(original.id)
    assert [(link.story_id, link.related_story_id) for link in links] == [
        (next(s.id for s in stories if s.id != original.id), original.id)
    ]


async def test_merged_stories_alert_once_and_split_undoes_the_merge(store: Store) -> None:
    first, second, third = await feeds(store, 3)
    digest = TopicMatch("talks", "digest", 2.0, ("Iraq",), ("talks",))
    talks = replace(
        article(first, 1, "US, Iraq open talks on troop withdrawal", WIRE), matches=(digest,)
    )
    attack = article(second, 2, "Drone attack wounds US troops at Iraq base", OTHER)
    assert await store.save_article(talks, to("a"), NOW) == 0  # digest level: no alert yet
    assert await store.save_article(attack, to("a"), NOW) == 1
    stories = {story.title: story.id for story in await store.list_stories()}
    kept, merged = stories[talks.title], stories[attack.title]

    with pytest.raises(MergeRefusedError):
        await store.merge_stories(kept, 999_999, NOW)
    with pytest.raises(MergeRefusedError):
        await store.merge_stories(kept, kept, NOW)
    assert len(await store.list_stories()) == 2  # a refused merge changed nothing

    outcome = await store.merge_stories(kept, merged, NOW)
    assert (outcome.kept, outcome.merged, outcome.moved) == (kept, merged, 1)
    [story] = await store.list_stories()
    assert (story.id, story.article_count, story.source_count) == (kept, 2, 2)
    assert [level[:2] for level in story.levels] == [("talks", "alert")]
    [alert] = await store.list_alerts()
    shown = await store.alert_detail(alert.id)
    assert shown is not None
    assert shown.payload["story"]["id"] == kept  # the waiting alert follows its article

    # The kept story had only a digest-level match; it took the merged story's alert, so an
    # alert-level copy of its own article joins without alerting again.
    later = article(third, 3, "US, Iraq open talks on troop withdrawal", WIRE)
    assert await store.save_article(later, to("a"), NOW) == 0
    detail = await store.story_detail(kept)
    assert detail is not None
    assert len(detail[1]) == 3

    # Undo: split on an article that came with the merged story takes that story back out.
    moved = next(a for a in detail[1] if a.title == attack.title)
    undone = await store.split_article(moved.id, to("a"), NOW)
    assert undone is not None
    assert (undone.story_id, undone.left_story_id, undone.alerts) == (merged, kept, 0)
    counts = {story.id: story.article_count for story in await store.list_stories()}
    assert counts == {kept: 2, merged: 1}
    assert len(await store.list_alerts()) == 1


def test_stories_show_lists_the_links_and_merge_joins_them_from_the_command_line(
    sqlite_url: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    async def prepare() -> tuple[int, int]:
        engine = open_engine(sqlite_url)
        await upgrade_schema(engine)
        store = Store(engine)
        first, second = await feeds(store, 2)
        await store.save_article(article(first, 1, *SURPRISE), to("a"), NOW, stories=ZONE)
        await store.save_article(article(second, 2, *UNANNOUNCED), to("a"), NOW, stories=ZONE)
        ids = {story.title: story.id for story in await store.list_stories()}
        await engine.dispose()
        return ids[SURPRISE[0]], ids[UNANNOUNCED[0]]

    original, marked = asyncio.run(prepare())
    config = write_config(tmp_path / "monitor.toml", database_url=sqlite_url, feeds=[])
    assert main(["--config", str(config), "stories", "show", str(original)]) == 0
    shown = capsys.readouterr().out
    assert "likely the same event" in shown
    assert f"{original}: {SURPRISE[0][:50]}" in shown

    assert main(["--config", str(config), "stories", "merge", str(original), str(marked)]) == 0
    assert f"story {marked} merged into story {original}" in capsys.readouterr().out
    assert main(["--config", str(config), "stories", "list"]) == 0
    listed = capsys.readouterr().out
    assert SURPRISE[0][:60] in listed
    assert UNANNOUNCED[0] not in listed  # merged: listed as part of the story it joined
    assert main(["--config", str(config), "stories", "merge", str(original), str(marked)]) == 1
    assert "one story already" in capsys.readouterr().err
