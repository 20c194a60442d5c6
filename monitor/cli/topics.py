"""``monitor topics``: check topics and explain them, and an operator's feedback on them."""

from __future__ import annotations

import argparse
import asyncio
import sys
from pathlib import Path
from typing import TYPE_CHECKING

from monitor.cli.output import print_table, when

if TYPE_CHECKING:
    from monitor.settings import Settings
    from monitor.store.feedback import FeedbackEntry

EXIT_OK, EXIT_FAILURE = 0, 1


def add_topic_commands(commands: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    topics = commands.add_parser("topics", help="check and explain topics; give feedback")
    topic_commands = topics.add_subparsers(dest="topics_command", required=True, metavar="ACTION")
    check = topic_commands.add_parser(
        "check",
        help="validate the topics and print their rules in plain words, with stored feedback",
    )
    check.add_argument("name", nargs="?", help="one topic (default: every topic)")
    feedback = topic_commands.add_parser(
        "feedback",
        help="mark an alert not relevant, or give an example of what matters",
        description="Store a counter-example (--not-relevant) or an example (--relevant) of a "
        "topic in the database; the daemon and `monitor classify` add them to the topic's own. "
        "An item very like a counter-example stops alerting, whatever rule fired; an item like "
        "an example that names the topic's required terms is raised.",
    )
    feedback.add_argument("alert_id", nargs="?", help="the alert the feedback is about")
    given = feedback.add_mutually_exclusive_group(required=True)
    given.add_argument(
        "--not-relevant",
        nargs="?",
        const="",
        metavar="TEXT",
        help="the alert's headline (or TEXT) is not what the topic is about",
    )
    given.add_argument(
        "--relevant",
        nargs="?",
        const="",
        metavar="TEXT",
        help="TEXT (or the alert's headline) is what the topic is about",
    )
    given.add_argument("--list", action="store_true", help="list the stored feedback")
    given.add_argument("--remove", type=int, metavar="ID", help="delete one stored entry")
    feedback.add_argument("--topic", help="the topic (default: the alert's, else the first)")


def cmd_topics(settings: Settings, args: argparse.Namespace) -> int:
    if args.topics_command == "feedback":
        return _feedback(settings, args)
    from monitor.match.explain import describe_topic

    chosen = [settings.topic(args.name)] if args.name else list(settings.topics)
    entries, unreadable = stored_feedback(settings.database_url)
    for number, topic in enumerate(chosen):
        print(("\n\n" if number else "") + describe_topic(topic))
        if topic.examples:
            print("\n" + describe_feedback(topic.name, entries, unreadable))
    print(f"\n{len(chosen)} topic(s) OK")
    return EXIT_OK


def stored_feedback(database_url: str) -> tuple[list[FeedbackEntry], str | None]:
    """The feedback stored in the database, or why it could not be read. No database at all
    is found out without importing the database stack, so ``topics check`` stays quick."""
    missing = _missing_sqlite_file(database_url)
    if missing is not None:
        return [], missing
    from monitor.service.feedback import FeedbackUnreadableError, read_feedback

    try:
        return asyncio.run(read_feedback(database_url)), None
    except FeedbackUnreadableError as error:
        return [], str(error)


def _missing_sqlite_file(database_url: str) -> str | None:
    if not database_url.startswith("sqlite"):
        return None
    path = database_url.partition(":///")[2].partition("?")[0]
    if not path or path == ":memory:":
        return "an in-memory database holds nothing to read"
    return None if Path(path).is_file() else f"there is no database at {path} yet"


def describe_feedback(topic: str, entries: list[FeedbackEntry], unreadable: str | None) -> str:
    """A topic's stored feedback as ``topics check`` prints it."""
    if unreadable is not None:
        return f"Feedback: could not be read: {unreadable}."
    own = [entry for entry in entries if entry.topic == topic]
    if not own:
        return "Feedback: none stored (`monitor topics feedback` adds some)."
    lines = ["Feedback (stored; `monitor topics feedback --remove ID` deletes one)"]
    for entry in own:
        sign = "+" if entry.kind == "example" else "-"
        lines.append(f"  {sign} #{entry.id} {entry.text}")
    return "\n".join(lines)


def _feedback(settings: Settings, args: argparse.Namespace) -> int:
    from monitor.app.resources import open_store, utc_now
    from monitor.service.context import ServiceError, Services
    from monitor.service.feedback import give_feedback, list_feedback, remove_feedback

    async def go() -> int:
        async with open_store(settings) as store:
            services = Services.over(store, settings, utc_now)
            if args.list:
                _print_entries(await list_feedback(services, args.topic))
                return EXIT_OK
            if args.remove is not None:
                removed = await remove_feedback(services, args.remove)
                print(
                    f"removed #{removed.id} ({_kind(removed)} of {removed.topic}): {removed.text}"
                )
                return EXIT_OK
            relevant = args.relevant is not None
            text = (args.relevant if relevant else args.not_relevant) or None
            if text is None and args.alert_id is None:
                print("monitor: give an alert id or a TEXT", file=sys.stderr)
                return EXIT_FAILURE
            entry, new = await give_feedback(
                services,
                relevant=relevant,
                text=text,
                alert_id=None if text is not None else args.alert_id,
                topic=args.topic,
            )
            said = "stored" if new else "already stored"
            print(
                f"{said} #{entry.id}, {_kind(entry)} of {entry.topic}: {entry.text}\n"
                "The daemon uses it from its next poll; `monitor topics feedback --remove "
                f"{entry.id}` undoes it."
            )
            return EXIT_OK

    try:
        return asyncio.run(go())
    except ServiceError as error:
        print(f"monitor: {error}", file=sys.stderr)
        return EXIT_FAILURE


def _kind(entry: FeedbackEntry) -> str:
    return "example" if entry.kind == "example" else "counter-example"


def _print_entries(entries: list[FeedbackEntry]) -> None:
    print_table(
        ["ID", "TOPIC", "KIND", "ALERT", "GIVEN", "TEXT"],
        [
            [str(e.id), e.topic, _kind(e), e.alert_id or "-", when(e.created_at), e.text]
            for e in entries
        ],
    )
