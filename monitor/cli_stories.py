"""``monitor stories``: the stories seen lately, and why each article of one was put there."""

from __future__ import annotations

import argparse
import asyncio
import sys
from typing import Any

from monitor.cli_output import print_table, when
from monitor.settings import Settings

EXIT_OK, EXIT_FAILURE = 0, 1

_REASONS = {
    "new": "started the story",
    "duplicate": "a copy of",
    "event": "the same event as",
}


def add_story_commands(commands: Any) -> None:
    stories = commands.add_parser("stories", help="stories: articles grouped by event")
    actions = stories.add_subparsers(dest="stories_command", required=True, metavar="ACTION")
    listing = actions.add_parser("list", help="the stories seen most recently")
    listing.add_argument("--limit", type=int, default=30)
    show = actions.add_parser(
        "show", help="one story: its articles and why each was grouped (which article, how close)"
    )
    show.add_argument("id", type=int)


def cmd_stories(settings: Settings, args: argparse.Namespace) -> int:
    from monitor.runtime import open_store

    async def go() -> int:
        async with open_store(settings) as store:
            if args.stories_command == "show":
                found = await store.story_detail(args.id)
                if found is None:
                    print(f"monitor: no story {args.id}", file=sys.stderr)
                    return EXIT_FAILURE
                story, articles = found
                print(f"story {story.id}: {story.title}")
                print(
                    f"{story.article_count} article(s) from {story.source_count} source(s), "
                    f"{when(story.first_seen_at)} to {when(story.last_seen_at)}"
                )
                for topic, level, alerted_at in story.levels:
                    print(f"topic {topic}: {level}, alerted {when(alerted_at)}")
                print()
                print_table(
                    ["ARTICLE", "AT", "SOURCE", "TITLE", "WHY", "SIMILARITY", "SHARED"],
                    [
                        [
                            str(article.id),
                            when(article.at),
                            article.source[:24],
                            article.title[:60],
                            _why(article.reason, article.closest_article_id),
                            f"{article.similarity:.2f}" if article.similarity is not None else "-",
                            ", ".join(article.shared),
                        ]
                        for article in articles
                    ],
                )
                return EXIT_OK
            stories = await store.list_stories(args.limit)
        print_table(
            ["ID", "LAST SEEN", "ARTICLES", "SOURCES", "LEVELS", "TITLE"],
            [
                [
                    str(story.id),
                    when(story.last_seen_at),
                    str(story.article_count),
                    str(story.source_count),
                    ", ".join(f"{topic}: {level}" for topic, level, _ in story.levels) or "-",
                    story.title[:70],
                ]
                for story in stories
            ],
        )
        return EXIT_OK

    return asyncio.run(go())


def _why(reason: str | None, closest: int | None) -> str:
    """A decision in words: "the same event as 12", "started the story (closest 9)"."""
    if reason is None:
        return "stored before stories"
    if reason == "new":
        return _REASONS["new"] + (f" (closest {closest})" if closest else "")
    return f"{_REASONS.get(reason, reason)} {closest}"
