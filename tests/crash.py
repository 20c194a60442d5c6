"""Helpers for the crash-safety tests: ``monitor run`` as a real process that can be killed, a
newsroom whose feeds keep publishing stories on the default topic, a receiver that is slow,
fails now and then, or holds its answer, and the check that every story arrived under one id."""

from __future__ import annotations

import asyncio
import os
import random
import signal
import sys
import time
from collections import defaultdict
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit
from xml.sax.saxutils import escape

from aiohttp import web
from standardwebhooks import Webhook

from monitor.app.resources import open_store
from monitor.settings import load_settings
from monitor.store.facade import Store
from tests.conftest import ROOT, write_config
from tests.web import Item, Receiver, Site, rss

SECRET = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"

# Every wait is short, so a killed sender's claims come back and failed sends are retried
# within a second or two. A send times out before its lease ends, as it must in production.
FAST: dict[str, dict[str, Any]] = {
    "poll": {
        "tick_seconds": 0.1,
        "interval_seconds": 0.5,
        "min_interval_seconds": 0.3,
        "max_interval_seconds": 0.6,
        "max_backoff_seconds": 1,
        # A killed daemon's feeds wait for their lease on PostgreSQL (on SQLite a restart
        # takes them back at once): keep that wait short here.
        "lease_seconds": 3,
    },
    "delivery": {
        "tick_seconds": 0.25,
        "lease_seconds": 1.5,
        "timeout_seconds": 1,
        "retry_seconds": [0.25] * 40,  # never dead in a test: a story must arrive
    },
}


def crash_config(
    folder: Path,
    *,
    database_url: str,
    feeds: list[str],
    receiver: Receiver,
    poll: dict[str, Any] | None = None,
    delivery: dict[str, Any] | None = None,
) -> Path:
    """A config with the default topic, the ``FAST`` timings (overridden by ``poll`` and
    ``delivery``), local feeds and one signed endpoint at ``receiver``."""
    return write_config(
        folder / "monitor.toml",
        database_url=database_url,
        feeds=feeds,
        webhook_url=receiver.url,
        webhook_secret=SECRET,
        sections={
            "poll": {**FAST["poll"], **(poll or {})},
            "delivery": {**FAST["delivery"], **(delivery or {})},
        },
    )


class Daemon:
    """``monitor run`` as a real process; every run appends its JSON log to one file."""

    def __init__(self, config: Path) -> None:
        self.config = config
        self.log = config.parent / "daemon.log"
        self.process: asyncio.subprocess.Process | None = None
        self.runs = 0
        self._run_log_starts = 0

    async def start(self) -> None:
        assert not self.alive, "the previous run is still alive"
        with self.log.open("ab") as log:
            self._run_log_starts = log.tell()
            self.process = await asyncio.create_subprocess_exec(
                sys.executable,
                "-m",
                "monitor",
                "--config",
                str(self.config),
                "run",
                cwd=self.config.parent,
                env={**os.environ, "PYTHONPATH": str(ROOT)},
                stdin=asyncio.subprocess.DEVNULL,
                stdout=asyncio.subprocess.DEVNULL,
                stderr=log,
            )
        self.runs += 1

    @property
    def alive(self) -> bool:
        return self.process is not None and self.process.returncode is None

    async def kill(self) -> None:
        """SIGKILL: no handler runs, nothing is flushed or released."""
        assert self.process is not None
        self.process.kill()
        await self.process.wait()

    async def stop(self, seconds: float = 15) -> int:
        """SIGTERM, as an operator stops it; returns the exit status."""
        assert self.process is not None
        self.process.send_signal(signal.SIGTERM)
        return await asyncio.wait_for(self.process.wait(), seconds)

    def logged(self, event: str) -> bool:
        """Whether the current run has logged ``event`` (a JSON log line's event)."""
        with self.log.open("rb") as log:
            log.seek(self._run_log_starts)
            return f'"event": "{event}"'.encode() in log.read()

    def log_tail(self, lines: int = 30) -> str:
        if not self.log.exists():
            return ""
        return "\n".join(self.log.read_text(errors="replace").splitlines()[-lines:])


@asynccontextmanager
async def outbox(config: Path) -> AsyncIterator[Store]:
    """The daemon's database, read from the test while the daemon runs or after it stopped."""
    async with open_store(load_settings(config), migrate=False) as store:
        yield store


async def eventually(
    condition: Callable[[], Awaitable[bool]], seconds: float, what: str, daemon: Daemon
) -> None:
    """Wait until ``condition()`` holds while the daemon runs; fail with ``what`` and the
    daemon's log if it does not, or at once if the daemon exits."""
    deadline = time.monotonic() + seconds
    while not await condition():
        if not daemon.alive:
            assert daemon.process is not None
            status = daemon.process.returncode
            raise AssertionError(f"{what}: the daemon exited ({status}); log:\n{daemon.log_tail()}")
        if time.monotonic() > deadline:
            raise AssertionError(f"{what} (after {seconds} s); daemon log:\n{daemon.log_tail()}")
        await asyncio.sleep(0.05)


def article_html(title: str, *paragraphs: str) -> str:
    body = "".join(f"<p>{escape(text)}</p>" for text in paragraphs)
    return (
        f"<html lang='en'><head><title>{escape(title)}</title></head><body><article>"
        f"<h1>{escape(title)}</h1>{body}</article></body></html>"
    )


def page(title: str, *paragraphs: str) -> web.Response:
    return web.Response(text=article_html(title, *paragraphs), content_type="text/html")


def blocking_page(
    story: Story, requested: asyncio.Event, answer: asyncio.Event
) -> Callable[[web.Request], Awaitable[web.Response]]:
    """An article page that tells the test it was requested, then answers once ``answer`` is
    set."""

    async def article(_request: web.Request) -> web.Response:
        requested.set()
        await asyncio.wait_for(answer.wait(), 60)
        return page(story.title, *story.paragraphs())

    return article


def plain_page(story: Story) -> Callable[[web.Request], Awaitable[web.Response]]:
    async def article(_request: web.Request) -> web.Response:
        return page(story.title, *story.paragraphs())

    return article


HEADLINES = (
    (
        "US and Iraq hold talks in {place} on ending the coalition mission, round {n}",
        "The Higher Military Commission met to set a timetable for US troops in Iraq.",
    ),
    (
        "Iraq and US open security talks in {place}: session {n}",
        "US and Iraqi officials discussed the future of coalition forces in Iraq.",
    ),
    (
        "Higher Military Commission meets in {place} on US troop drawdown ({n})",
        "The Pentagon said American troops will withdraw from Iraq.",
    ),
)
PLACES = ("Baghdad", "Erbil", "Washington", "Basra", "Kirkuk", "Mosul", "Najaf", "Amman")


@dataclass(frozen=True)
class Story:
    """A distinct story on the default topic, at alert level, with its own page."""

    number: int
    title: str
    lead: str

    @property
    def path(self) -> str:
        return f"/story/{self.number}"

    @classmethod
    def make(cls, number: int) -> Story:
        headline, lead = HEADLINES[number % len(HEADLINES)]
        place = PLACES[number % len(PLACES)]
        return cls(number, headline.format(place=place, n=number), lead)

    def item(self, site: Site, query: str = "") -> Item:
        return Item(title=self.title, link=site.url(self.path) + query, description=self.lead)

    def paragraphs(self) -> tuple[str, str]:
        return (
            self.lead,
            f"Officials from both governments will meet again next month, a spokesman said "
            f"after the session, the {self.number}th since the talks began.",
        )


class Newsroom:
    """Feeds that publish ``per_fetch`` more stories each time they are fetched, and article
    pages that answer after a random pause: work is always under way, so a kill lands in a
    fetch, a commit or a send. Every fourth story is carried by a second feed too, behind a
    tracking link: the same story, which must still make one alert."""

    def __init__(
        self,
        site: Site,
        count: int,
        *,
        feeds: int = 3,
        per_fetch: int = 2,
        max_delay: float = 0.2,
        rng: random.Random,
    ) -> None:
        self.site, self.rng, self.max_delay = site, rng, max_delay
        self.stories = [Story.make(number) for number in range(count)]
        self.per_fetch = per_fetch
        self.items: list[list[Item]] = [[] for _ in range(feeds)]
        for story in self.stories:
            self.items[story.number % feeds].append(story.item(site))
            if story.number % 4 == 3:
                self.items[(story.number + 1) % feeds].append(
                    story.item(site, "?utm_source=partner&utm_medium=rss")
                )
        self.published = [0] * feeds
        self.pages_in_flight = 0
        self.feed_urls = [
            site.handle(f"/feed/{index}.xml", self._feed(index)) for index in range(feeds)
        ]
        for story in self.stories:
            site.handle(story.path, self._page(story))

    @property
    def paths(self) -> set[str]:
        return {story.path for story in self.stories}

    def _feed(self, index: int) -> Callable[[web.Request], Awaitable[web.Response]]:
        async def feed(_request: web.Request) -> web.Response:
            shown = self.published[index] = min(
                self.published[index] + self.per_fetch, len(self.items[index])
            )
            body = rss(self.items[index][:shown], title=f"Wire {index}")
            return web.Response(text=body, content_type="application/rss+xml")

        return feed

    def _page(self, story: Story) -> Callable[[web.Request], Awaitable[web.Response]]:
        async def article(_request: web.Request) -> web.Response:
            self.pages_in_flight += 1
            try:
                await asyncio.sleep(self.rng.uniform(0, self.max_delay))
                return page(story.title, *story.paragraphs())
            finally:
                self.pages_in_flight -= 1

        return article


@dataclass
class FlakyReceiver(Receiver):
    """A receiver that records every delivery, then answers after a random pause, with a 500
    now and then (``fail_rate``); with ``hold`` it records and then keeps its answer back
    until ``hold`` is set (``holding`` tells the test it got there)."""

    fail_rate: float = 0.0
    max_delay: float = 0.0
    hold: asyncio.Event | None = None
    holding: asyncio.Event = field(default_factory=asyncio.Event)
    rng: random.Random = field(default_factory=random.Random)
    in_flight: int = 0
    answers: dict[str, list[int]] = field(default_factory=lambda: defaultdict(list))

    async def _receive(self, request: web.Request) -> web.Response:
        self.in_flight += 1
        try:
            response = await super()._receive(request)
            if self.hold is not None and not self.hold.is_set():
                self.holding.set()
                await asyncio.wait_for(self.hold.wait(), 60)
            await asyncio.sleep(self.rng.uniform(0, self.max_delay))
            if self.rng.random() < self.fail_rate:
                response = web.Response(status=500, text="no")
            self.answers[request.headers["webhook-id"]].append(response.status)
            return response
        finally:
            self.in_flight -= 1

    def repeats_after_success(self) -> int:
        """Deliveries of alerts the receiver had already accepted: the sender died between
        the receiver's answer and its own record of it."""
        return sum(
            len(statuses) - statuses.index(200) - 1
            for statuses in self.answers.values()
            if 200 in statuses
        )


def story_path(url: str) -> str:
    return urlsplit(url).path


async def assert_each_story_arrived_under_one_id(
    config: Path, receiver: Receiver, paths: set[str]
) -> dict[str, str]:
    """Every story reached the receiver, every repeat under the id of its first delivery, with
    a valid signature; the database has one alert per story, delivered, under that id.
    Returns each story's id."""
    ids: dict[str, set[str]] = defaultdict(set)
    for delivery in receiver.deliveries:
        payload = Webhook(SECRET).verify(delivery.body, delivery.headers)
        assert delivery.headers["webhook-id"] == payload["id"]
        ids[story_path(payload["url"])].add(payload["id"])
    missing = paths - ids.keys()
    assert not missing, f"stories never delivered: {sorted(missing)}"
    doubled = {path: sorted(found) for path, found in ids.items() if len(found) > 1}
    assert not doubled, f"stories delivered under two ids: {doubled}"
    assert ids.keys() == paths, f"unexpected deliveries: {sorted(ids.keys() - paths)}"
    async with outbox(config) as store:
        alerts = await store.list_alerts(limit=10 * len(paths) + 10)
        assert await store.count_articles() == len(paths)
    assert sorted(alert.status for alert in alerts) == ["delivered"] * len(paths)
    stored = {story_path(alert.url): alert.id for alert in alerts}
    assert stored == {path: next(iter(found)) for path, found in ids.items()}
    return stored
