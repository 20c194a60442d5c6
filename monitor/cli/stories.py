"""``monitor stories``: the stories seen lately, why each article of one was put there, and
taking an article out of a story it was wrongly put in."""

from __future__ import annotations

import argparse
import asyncio
import sys
from typing import TYPE_CHECKING, Any

from monitor.cli.output import print_table, when

if TYPE_CHECKING:
    from monitor.settings import Settings
    from monitor.store.facade import Store

EXIT_OK, EXIT_FAILURE = 0, 1


def add_story_commands(commands: Any) -> None:
    stories = commands.add_parser("stories", help="stories: articles grouped by event")
    actions = stories.add_subparsers(dest="stories_command", required=True, metavar="ACTION")
    listing = actions.add_parser("list", help="the stories seen most recently")
    listing.add_argument("--limit", type=int, default=30)
    show = actions.add_parser(
        "show", help="one story: its articles and why each was grouped (which article, how close)"
    )
    show.add_argument("id", type=int)
    split = actions.add_parser(
        "split",
        help="take an article out of its story into one of its own, alerting as a new story "
        "would: for two events wrongly grouped as one",
    )
    split.add_argument(
        "article",
        type=int,
        help="the article's id, as `stories show` lists it; an article that came with a "
        "merged story takes that story back out (undoing `stories merge`)",
    )
    merge = actions.add_parser(
        "merge",
        help="join story B into story A, judged to report one event: B's articles move to A, "
        "and A's later articles do not alert again for what either story alerted",
    )
    merge.add_argument("kept", type=int, metavar="A", help="the story that stays")
    merge.add_argument("merged", type=int, metavar="B", help="the story merged into A")


def cmd_stories(settings: Settings, args: argparse.Namespace) -> int:
    from monitor.app.resources import open_store
    from monitor.service.stories import why

    async def go() -> int:
        async with open_store(settings, require_current=True) as store:
            if args.stories_command == "split":
                return await _split(store, settings, args.article)
            if args.stories_command == "merge":
                return await _merge(store, args.kept, args.merged)
            if args.stories_command == "show":
                found = await store.story_detail(args.id)
                if found is None:
                    print(f"monitor: no story {args.id}", file=sys.stderr)
                    return EXIT_FAILURE
                story, articles = found
                print(f"story {story.id}: {story.title}")
                if story.merged_into is not None:
                    print(f"merged into story {story.merged_into} by an operator")
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
                            why(article.reason, article.closest_article_id),
                            f"{article.similarity:.2f}" if article.similarity is not None else "-",
                            ", ".join(article.shared),
                        ]
                        for article in articles
                    ],
                )
                _print_links(story.id, await store.story_links(story.id))
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


async def _split(store: Store, settings: Settings, article_id: int) -> int:
    from monitor.app.resources import utc_now
    from monitor.service.context import NotFoundError, Services
    from monitor.service.stories import split_article

    try:
        outcome = await split_article(Services.over(store, settings, utc_now), article_id)
    except NotFoundError:
        print(f"monitor: no article {article_id}", file=sys.stderr)
        return EXIT_FAILURE
    if outcome.left_story_id is None:
        print(f"article {article_id} is alone in story {outcome.story_id} already")
        return EXIT_OK
    print(
        f"article {article_id} left story {outcome.left_story_id} for story "
        f"{outcome.story_id}; {outcome.alerts} alert(s) queued"
        + (", sent by the running daemon or the next `monitor once`" if outcome.alerts else "")
    )
    return EXIT_OK


async def _merge(store: Store, kept: int, merged: int) -> int:
    from monitor.app.resources import utc_now
    from monitor.store.facade import MergeRefusedError

    try:
        outcome = await store.merge_stories(kept, merged, utc_now())
    except MergeRefusedError as refused:
        print(f"monitor: {refused}", file=sys.stderr)
        return EXIT_FAILURE
    print(
        f"story {outcome.merged} merged into story {outcome.kept}: {outcome.moved} article(s) "
        f"moved; undo with `monitor stories split ARTICLE` on one of them"
    )
    return EXIT_OK


def _print_links(story_id: int, links: list[Any]) -> None:
    """The likely same-event links from and to a story, which alerted as follow-ups."""
    if not links:
        return
    print(
        "\nlikely the same event (these alerted as marked follow-ups; join with `stories merge`):"
    )
    print_table(
        ["ARTICLE", "IN STORY", "LIKELY SAME AS STORY", "VIA ARTICLE", "SIMILARITY", "SHARED"],
        [
            [
                str(link.article_id),
                str(link.story_id) + (" (this)" if link.story_id == story_id else ""),
                f"{link.related_story_id}: {link.related_title[:50]}",
                str(link.related_article_id),
                f"{link.similarity:.2f}",
                ", ".join(link.shared),
            ]
            for link in links
        ],
    )
