"""Rendering for JSON, Slack and Discord receivers, with bounded sizes."""

from __future__ import annotations

import json
import re
from typing import Any

from monitor.deliver.formats import MAX_SUMMARY, render

ALERT: dict[str, Any] = {
    "id": "a1",
    "type": "article.matched",
    "topic": "us-iraq-security-talks",
    "title": "US and Iraq begin talks on <coalition> & troops",
    "url": "https://news.example/a1",
    "source": {"title": "World news", "url": "https://news.example/rss"},
    "published_at": "2024-01-25T18:00:00Z",
    "summary": "The Higher Military Commission met in Baghdad. " * 100,
    "level": "alert",
    "matched_terms": [f"term{i}" for i in range(40)],
    "matched_rules": ["named talks"],
    "score": 9.0,
}


def test_json_is_the_payload_with_bounded_fields() -> None:
    body = render(ALERT, "json")
    assert body["id"] == "a1"
    assert body["url"] == ALERT["url"]
    assert len(body["summary"]) <= MAX_SUMMARY
    assert body["summary"].endswith("…")
    assert len(body["matched_terms"]) == 12
    assert len(json.dumps(body)) < 4000
    assert len(ALERT["summary"]) > MAX_SUMMARY  # the stored payload is untouched


def test_slack_blocks_link_the_title_and_say_why() -> None:
    body = render(ALERT, "slack")
    assert body["text"] == ALERT["title"]
    heading = body["blocks"][0]["text"]["text"]
    assert (
        heading
        == "*<https://news.example/a1|US and Iraq begin talks on &lt;coalition&gt; &amp; troops>*"
    )
    assert body["blocks"][1]["text"]["text"].startswith("The Higher Military Commission")
    context = body["blocks"][2]["elements"][0]["text"]
    assert "World news" in context
    assert "rules: named talks" in context


def test_discord_embeds() -> None:
    body = render(ALERT, "discord")
    [embed] = body["embeds"]
    assert (embed["title"], embed["url"]) == (ALERT["title"], ALERT["url"])
    assert embed["timestamp"] == "2024-01-25T18:00:00Z"
    assert {field["name"] for field in embed["fields"]} == {"Source", "Topic", "Why"}


def test_a_digest_lists_its_stories_and_is_capped() -> None:
    stories = [
        {**ALERT, "title": f"Story {n}", "url": f"https://news.example/{n}"} for n in range(40)
    ]
    digest = {"id": "d1", "type": "digest", "stories": stories}
    body = render(digest, "json")
    # A JSON receiver gets every story the digest covers: none is dropped behind a count.
    assert [story["title"] for story in body["stories"]] == [f"Story {n}" for n in range(40)]
    assert body["more_stories"] == 0
    slack = render(digest, "slack")
    assert slack["text"] == "Digest: 40 stories"
    assert "<https://news.example/0|Story 0>" in slack["blocks"][1]["text"]["text"]
    assert "…and 15 more" in slack["blocks"][1]["text"]["text"]
    discord = render(digest, "discord")
    assert "[Story 3](https://news.example/3)" in discord["embeds"][0]["description"]
    for rendered in (slack, discord):
        assert len(json.dumps(rendered)) < 40_000
    # The JSON digest grows with its stories, each of them bounded like an alert.
    assert all(len(story["summary"]) <= MAX_SUMMARY for story in body["stories"])


def test_a_digest_line_says_how_many_other_outlets_carried_the_story() -> None:
    sources = [{"title": name, "url": f"https://{name}.example/rss"} for name in "abc"]
    story = {**ALERT, "story": {"id": 3, "article_count": 4, "sources": sources}}
    digest = {"id": "d1", "type": "digest", "stories": [story, ALERT]}
    text = render(digest, "discord")["embeds"][0]["description"]
    assert f"— {ALERT['source']['title']} and 2 other outlets" in text
    assert text.count("other outlet") == 1


STORY_ALERT: dict[str, Any] = {
    **ALERT,
    "story": {
        "id": 7,
        "article_count": 14,
        "sources": [
            {"title": "World news", "url": "https://news.example/rss"},
            *({"title": f"Outlet {n}", "url": f"https://outlet{n}.example/rss"} for n in range(13)),
        ],
    },
}


def test_the_story_names_the_other_outlets_within_bounds() -> None:
    body = render(STORY_ALERT, "json")
    assert len(body["story"]["sources"]) == 10
    assert body["story"]["more_sources"] == 4
    assert len(STORY_ALERT["story"]["sources"]) == 14  # the stored payload is untouched
    slack = json.dumps(render(STORY_ALERT, "slack"))
    assert "Also reported by: Outlet 0, Outlet 1" in slack
    assert "and 4 more" in slack
    discord = render({**STORY_ALERT, "type": "story.updated"}, "discord")
    [embed] = discord["embeds"]
    assert embed["title"].startswith("Update: ")
    also = next(field for field in embed["fields"] if field["name"] == "Also reported by")
    assert "World news" not in also["value"]  # the alert's own outlet is not "also"


def test_a_long_digest_in_chat_counts_every_story_it_leaves_out() -> None:
    stories = [
        {
            **ALERT,
            "title": f"Story {n} " + "with a long headline " * 6,
            "url": f"https://news.example/{n}?" + "x" * 80,
        }
        for n in range(25)
    ]
    digest = {"id": "d1", "type": "digest", "stories": stories}
    slack = render(digest, "slack")["blocks"][1]["text"]["text"]
    discord = render(digest, "discord")["embeds"][0]["description"]
    for text, limit in ((slack, 3000), (discord, 4096)):
        assert len(text) <= limit
        *shown, more = text.split("\n")
        # Every listed story is a whole line with its link closed, and the rest are counted.
        assert all(line.startswith("• ") and "news.example" in line for line in shown)
        assert more == f"…and {25 - len(shown)} more"
        assert 0 < len(shown) < 25


HOSTILE_URL = "https://news.example/a?x=1>|<https://evil.example|click here>&y=2"
HOSTILE_TITLE = "Talks] (https://evil.example) <!channel> | *bold*"
SLACK_LINK = re.compile(r"<([^<>|]*)\|([^<>]*)>")
DISCORD_LINK = re.compile(r"\[((?:\\.|[^\]\\])*)\]\(([^()\s]*)\)")


def test_a_hostile_url_or_title_cannot_break_out_of_a_slack_link() -> None:
    alert = {**ALERT, "url": HOSTILE_URL, "title": HOSTILE_TITLE}
    digest = {"id": "d1", "type": "digest", "stories": [alert]}
    for body in (render(alert, "slack"), render(digest, "slack")):
        text = next(b["text"]["text"] for b in body["blocks"] if b["type"] == "section")
        [(url, _label)] = SLACK_LINK.findall(text)  # one link, and only the story's
        unescaped = url.replace("&lt;", "<").replace("&gt;", ">").replace("&amp;", "&")
        assert unescaped.replace("%7C", "|") == HOSTILE_URL
        assert "evil" not in SLACK_LINK.sub("", text)


def test_a_hostile_url_or_title_cannot_break_out_of_a_discord_link() -> None:
    digest = {
        "id": "d1",
        "type": "digest",
        "stories": [
            {
                **ALERT,
                "url": "https://news.example/a) [x](https://evil.example",
                "title": HOSTILE_TITLE,
            }
        ],
    }
    description = render(digest, "discord")["embeds"][0]["description"]
    [(_label, url)] = DISCORD_LINK.findall(description)
    assert url.startswith("https://news.example/a%29")
    assert "https://evil.example)" not in DISCORD_LINK.sub("", description)
