"""The ``monitor`` command line: the daemon, one-off runs, and tools for feeds, alerts, stories,
topics."""

from __future__ import annotations

import argparse
import asyncio
import json
import sys
from collections.abc import Callable, Iterable, Sequence
from dataclasses import asdict
from pathlib import Path
from typing import TYPE_CHECKING, TextIO

from monitor import __version__
from monitor.cli.alerts import add_outbox_commands, cmd_alerts, cmd_check_config, cmd_webhooks
from monitor.cli.output import print_table, when
from monitor.cli.stories import add_story_commands, cmd_stories
from monitor.cli.topics import add_topic_commands, cmd_topics, stored_feedback
from monitor.text.redact import redact

# Each command imports what it uses, so that ``--help``, ``topics check`` and ``classify`` start
# in a tenth of a second and never load the database or HTTP stacks (nor trafilatura).
if TYPE_CHECKING:
    from monitor.match.topic import Topic
    from monitor.settings import Settings
    from monitor.store.feeds import FeedStatus

EXIT_OK, EXIT_FAILURE, EXIT_CONFIG = 0, 1, 2


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="monitor",
        description="Watch news feeds for stories on a topic and alert once per story by webhook.",
    )
    parser.add_argument("--version", action="version", version=f"monitor {__version__}")
    parser.add_argument(
        "--config",
        type=Path,
        metavar="PATH",
        help="TOML config file (default: $MONITOR_CONFIG, else config/monitor.toml)",
    )
    commands = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")

    commands.add_parser("run", help="run the daemon until SIGTERM or Ctrl-C")
    commands.add_parser(
        "once", help="poll every feed once, deliver pending alerts, print a summary line"
    )

    classify = commands.add_parser(
        "classify",
        help="score JSON lines of news items against a topic",
        description="Read JSON lines with 'title' and 'summary' (or 'description' or 'text') and "
        "an optional 'id'; write one JSON line each: id, match, score, terms.",
    )
    classify.add_argument("file", nargs="?", type=Path, help="JSON lines file (default: stdin)")
    classify.add_argument("--topic", help="topic name (default: the first topic in the config)")
    classify.add_argument(
        "--no-feedback",
        action="store_true",
        help="leave out the examples and counter-examples stored by `monitor topics feedback`",
    )

    extract = commands.add_parser(
        "extract", help="print the title, text, summary, date and language of an article page"
    )
    extract.add_argument("source", metavar="FILE_OR_URL", help="an HTML file or an http(s) URL")
    extract.add_argument("--url", help="the page's address, when reading a file")
    extract.add_argument("--topic", help="topic whose terms pick the summary sentences")

    feeds = commands.add_parser("feeds", help="list, add or remove feeds")
    feed_commands = feeds.add_subparsers(dest="feeds_command", required=True, metavar="ACTION")
    feed_commands.add_parser("list", help="every feed with its status, errors and next check")
    add = feed_commands.add_parser("add", help="add a feed (kept in the database)")
    add.add_argument("url")
    add.add_argument("--name", help="a short name for the feed")
    remove = feed_commands.add_parser("remove", help="remove a feed (its articles are kept)")
    remove.add_argument("url")
    imports = feed_commands.add_parser(
        "import",
        help="add the feeds of an OPML file, all or nothing; duplicates and bad URLs reported",
    )
    imports.add_argument("file", type=Path, help="an OPML file")
    imports.add_argument(
        "--skip-invalid", action="store_true", help="import the good feeds even if some are bad"
    )
    feed_commands.add_parser("export", help="print every feed as OPML")

    add_outbox_commands(commands)
    add_story_commands(commands)

    add_topic_commands(commands)

    database = commands.add_parser("db", help="database maintenance")
    db_commands = database.add_subparsers(dest="db_command", required=True, metavar="ACTION")
    db_commands.add_parser("upgrade", help="apply the schema migrations (the daemon does it too)")
    db_commands.add_parser(
        "prune", help="prune old article texts and delivered alerts now (the daemon does it daily)"
    )
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point of ``monitor`` and ``python -m monitor``; returns the exit status."""
    args = build_parser().parse_args(argv)
    from monitor.app.logs import configure_logging
    from monitor.settings import ConfigError, load_settings

    try:
        settings = load_settings(args.config)
    except ConfigError as error:
        print(f"monitor: {redact(str(error))}", file=sys.stderr)
        return EXIT_CONFIG
    configure_logging(settings.log_format, settings.log_level)
    handler = HANDLERS[args.command]
    try:
        return handler(settings, args)
    except ConfigError as error:
        print(f"monitor: {redact(str(error))}", file=sys.stderr)
        return EXIT_CONFIG
    except KeyboardInterrupt:
        return 130
    except Exception as error:
        if not _is_database_error(error):
            raise
        print(f"monitor: {redact(str(error))}", file=sys.stderr)
        return EXIT_FAILURE


def _is_database_error(error: Exception) -> bool:
    """Whether ``error`` is the store's DatabaseError, asked without importing the store: had it
    raised one, it would have been imported."""
    engine = sys.modules.get("monitor.store.engine")
    return engine is not None and isinstance(error, engine.DatabaseError)


def cmd_run(settings: Settings, _args: argparse.Namespace) -> int:
    from monitor.app.daemon import StartupError, run_daemon

    try:
        asyncio.run(run_daemon(settings))
    except StartupError as error:
        print(f"monitor: {redact(str(error))}", file=sys.stderr)
        return EXIT_FAILURE
    return EXIT_OK


def cmd_once(settings: Settings, _args: argparse.Namespace) -> int:
    from monitor.app.once import run_once

    report = asyncio.run(run_once(settings))
    print(report.line())
    return EXIT_OK


def cmd_classify(settings: Settings, args: argparse.Namespace) -> int:
    from monitor.match.topic import Topic

    chosen = settings.topic(args.topic) if args.topic else settings.topics[0]
    examples: list[str] = []
    counters: list[str] = []
    if not args.no_feedback and chosen.examples:
        entries, unreadable = stored_feedback(settings.database_url)
        if unreadable is not None and not unreadable.startswith("there is no database"):
            print(f"monitor: stored feedback left out: {unreadable}", file=sys.stderr)
        for entry in entries:
            if entry.topic == chosen.name:
                (examples if entry.kind == "example" else counters).append(entry.text)
    topic = Topic.from_settings(chosen, more_examples=examples, more_counter_examples=counters)
    stream: TextIO = args.file.open(encoding="utf-8") if args.file else sys.stdin
    with stream:
        bad = classify_lines(topic, stream, sys.stdout)
    return EXIT_FAILURE if bad else EXIT_OK


def classify_lines(topic: Topic, lines: Iterable[str], out: TextIO) -> int:
    """Write one verdict per JSON line; returns how many lines could not be read."""
    from monitor.match.explain import explain_path
    from monitor.match.topic import match_topic

    bad = 0
    for number, line in enumerate(lines, start=1):
        if not line.strip():
            continue
        try:
            item = json.loads(line)
            if not isinstance(item, dict):
                raise ValueError("expected a JSON object")
        except ValueError as error:
            print(f"monitor: line {number}: not a JSON object: {error}", file=sys.stderr)
            bad += 1
            continue
        body = str(item.get("summary") or item.get("description") or item.get("text") or "")
        result = match_topic(topic, str(item.get("title") or ""), body)
        out.write(
            json.dumps(
                {
                    "id": item.get("id", number),
                    "match": result.matched,
                    "level": result.level,
                    "score": result.score,
                    "terms": list(result.terms),
                    "rules": list(result.rules),
                    "path": explain_path(result),
                    "semantic": asdict(result.semantic) if result.semantic else None,
                },
                ensure_ascii=False,
            )
            + "\n"
        )
    return bad


def cmd_extract(settings: Settings, args: argparse.Namespace) -> int:
    from monitor.deliver.payloads import iso_utc
    from monitor.fetch.http import FetchError
    from monitor.match.summary import summarise
    from monitor.match.topic import Topic
    from monitor.parse.article import ExtractionError, extract_page

    topic = Topic.from_settings(settings.topic(args.topic) if args.topic else settings.topics[0])
    source: str = args.source
    try:
        if source.lower().startswith(("http://", "https://")):
            html, url = _run_fetch_page(settings, source), source
        else:
            html, url = Path(source).read_bytes(), args.url
        page = extract_page(html, url)
    except (OSError, FetchError, ExtractionError) as error:
        print(f"monitor: cannot extract {redact(source)}: {redact(str(error))}", file=sys.stderr)
        return EXIT_FAILURE
    print(
        json.dumps(
            {
                "title": page.title,
                "text": page.text,
                "summary": summarise(page.text, topic.relevance),
                "published_at": iso_utc(page.published_at),
                "language": page.language,
            },
            ensure_ascii=False,
            indent=2,
        )
    )
    return EXIT_OK


def _run_fetch_page(settings: Settings, url: str) -> str | bytes:
    from monitor.fetch.http import PAGE_ACCEPT, fetch, open_http_session
    from monitor.parse.article import decode_page

    async def go() -> str | bytes:
        async with open_http_session(settings.fetch) as http:
            fetched = await fetch(http, url, settings.fetch, accept=PAGE_ACCEPT)
        return decode_page(fetched.body, fetched.charset)

    return asyncio.run(go())


def cmd_feeds(settings: Settings, args: argparse.Namespace) -> int:
    from monitor.app.resources import open_store, utc_now

    async def go() -> int:
        async with open_store(settings, require_current=True) as store:
            if args.feeds_command in ("add", "remove", "import", "export"):
                from monitor.cli.feeds import change_feeds
                from monitor.service.context import Services

                return await change_feeds(Services.over(store, settings, utc_now), args)
            print_table(
                ["STATUS", "HTTP", "ERRORS", "REFUSED", "NEXT CHECK", "URL", "LAST ERROR"],
                [
                    [
                        _feed_status(f),
                        str(f.last_status or "-"),
                        str(f.error_count),
                        str(f.refusal_count),
                        "-" if not f.enabled else when(f.next_check_at),
                        f.url + (f" -> {f.fetch_url}" if f.fetch_url else ""),
                        f.disabled_reason or f.last_error or "",
                    ]
                    for f in await store.list_feeds()
                ],
            )
            return EXIT_OK

    return asyncio.run(go())


def _feed_status(feed: FeedStatus) -> str:
    if feed.disabled_reason:
        return "gone" if feed.last_status == 410 else "stopped"
    if not feed.enabled:
        return "disabled"
    return "failing" if feed.error_count else "ok"


def cmd_db(settings: Settings, args: argparse.Namespace) -> int:
    from monitor.app.resources import open_store

    async def go() -> int:
        if args.db_command == "prune":
            from monitor.app.jobs import prune_old
            from monitor.app.resources import open_pipeline

            async with open_pipeline(settings, prepare=False) as context:
                pruned = await prune_old(context)
            print(
                f"emptied {pruned.article_texts} article text(s), "
                f"deleted {pruned.alerts} delivered alert(s)"
            )
            return EXIT_OK
        async with open_store(settings):
            print("database schema is up to date")
        return EXIT_OK

    return asyncio.run(go())


HANDLERS: dict[str, Callable[[Settings, argparse.Namespace], int]] = {
    "stories": cmd_stories,
    "run": cmd_run,
    "once": cmd_once,
    "classify": cmd_classify,
    "extract": cmd_extract,
    "feeds": cmd_feeds,
    "alerts": cmd_alerts,
    "webhooks": cmd_webhooks,
    "check-config": cmd_check_config,
    "topics": cmd_topics,
    "db": cmd_db,
}
