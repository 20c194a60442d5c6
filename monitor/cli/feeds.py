"""``monitor feeds add | remove | import | export``: the feed operations of the service layer,
with a progress bar on a terminal for long imports."""

from __future__ import annotations

import argparse
import sys
from typing import TextIO

from monitor.service import feeds, opml
from monitor.service.context import ServiceError, Services
from monitor.text.redact import redact, redact_url

EXIT_OK, EXIT_FAILURE = 0, 1
BAR_WIDTH = 30


async def change_feeds(services: Services, args: argparse.Namespace) -> int:
    try:
        return await _change(services, args)
    except ServiceError as error:
        print(f"monitor: {redact(str(error))}", file=sys.stderr)
        return EXIT_FAILURE


async def _change(services: Services, args: argparse.Namespace) -> int:
    if args.feeds_command == "export":
        sys.stdout.write((await opml.export_opml(services)).decode())
        return EXIT_OK
    if args.feeds_command == "import":
        return await _import(services, args)
    if args.feeds_command == "add":
        change = await feeds.add_feed(services, args.url, args.name)
        shown = redact_url(args.url)
        print(f"added {shown}" if change.added else f"{shown} was already there; enabled")
        return EXIT_OK
    if not await feeds.remove_feed_by_url(services, args.url):
        print(f"monitor: no feed {redact_url(args.url)}", file=sys.stderr)
        return EXIT_FAILURE
    again = " (it is in the config file, so it returns at the next start)"
    print(
        f"removed {redact_url(args.url)}" + (again if feeds.in_config(services, args.url) else "")
    )
    return EXIT_OK


async def _import(services: Services, args: argparse.Namespace) -> int:
    try:
        data = args.file.read_bytes()
    except OSError as error:
        print(f"monitor: cannot read {args.file}: {error}", file=sys.stderr)
        return EXIT_FAILURE
    # On a terminal only: redrawn lines in a pipe or a file are noise in whatever reads it.
    bar = ProgressBar(sys.stderr, drawn=sys.stdout.isatty() and sys.stderr.isatty())
    try:
        report = await opml.import_opml(
            services, data, skip_invalid=args.skip_invalid, progress=bar.show
        )
    except opml.ImportRefusedError as refused:
        _print_report(refused.report)
        print(f"monitor: {redact(str(refused))}", file=sys.stderr)
        return EXIT_FAILURE
    bar.done()
    _print_report(report)
    return EXIT_OK


def _print_report(report: opml.OpmlReport) -> None:
    for problem in report.invalid:
        print(f"bad: {problem.url or '(empty)'}: {problem.reason}")
    for problem in report.repeated:
        print(f"repeated: {problem.url}: {problem.reason}")
    for url in report.already:
        print(f"already there: {url}")
    print(report.line())


class ProgressBar:
    """A one-line bar written to ``stream``, redrawn in place; nothing unless ``drawn``."""

    def __init__(self, stream: TextIO, *, drawn: bool) -> None:
        self.stream = stream
        self.shown = False
        self.drawn = drawn

    def show(self, done: int, total: int) -> None:
        if not self.drawn or total < 2:
            return
        filled = BAR_WIDTH * done // total
        self.stream.write(f"\r[{'#' * filled}{'.' * (BAR_WIDTH - filled)}] {done}/{total} feeds")
        self.stream.flush()
        self.shown = True

    def done(self) -> None:
        if self.shown:
            self.stream.write("\n")
