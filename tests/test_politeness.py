"""Feed checks as a publisher and an operator see them: redirects, Gone, Retry-After, the
schedule, validators, backoff, per-host limits — on real local servers and real databases."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta
from email.utils import format_datetime
from pathlib import Path
from typing import Any

import structlog
from aiohttp import web

from monitor.app.once import run_once
from monitor.app.resources import open_store
from monitor.settings import Settings
from monitor.store.feeds import FeedStatus
from tests.conftest import write_config
from tests.test_cli import monitor
from tests.test_pipeline import UNRELATED, serve_seed
from tests.web import Item, Receiver, Site, rss

MINUTE = timedelta(minutes=1)


async def feed_states(settings: Settings) -> dict[str, FeedStatus]:
    async with open_store(settings) as store:
        return {feed.url: feed for feed in await store.list_feeds()}


def dated(every: timedelta, count: int = 8) -> str:
    now = datetime.now(UTC)
    return rss(
        [
            Item(title=f"Story {n}", link=f"https://news.example/{n}", published=now - every * n)
            for n in range(count)
        ]
    )


def near(moment: datetime, expected: datetime, slack: timedelta) -> bool:
    return expected - slack <= moment <= expected + slack


async def test_a_permanent_redirect_moves_the_feed_and_a_temporary_one_does_not(
    site: Site, make_settings: Any
) -> None:
    new = site.serve("/new.xml", rss([UNRELATED]))
    old = site.serve("/old.xml", "", status=301, headers={"Location": "/new.xml"})
    site.serve("/elsewhere.xml", rss([UNRELATED]))
    temporary = site.serve("/tmp.xml", "", status=302, headers={"Location": "/elsewhere.xml"})
    settings = make_settings([old, temporary])

    await run_once(settings)
    states = await feed_states(settings)
    assert states[old].fetch_url == new
    assert states[temporary].fetch_url is None
    await run_once(settings)
    assert (site.hits("/old.xml"), site.hits("/new.xml")) == (1, 2)
    assert (site.hits("/tmp.xml"), site.hits("/elsewhere.xml")) == (2, 2)


async def test_gone_disables_the_feed_and_the_operator_sees_why(
    site: Site, make_settings: Any, tmp_path: Path
) -> None:
    gone = site.serve("/gone.xml", "", status=410)
    good = site.serve("/feed.xml", rss([UNRELATED]))
    settings = make_settings([gone, good])

    first = await run_once(settings)
    assert (first.cycle.feeds, first.cycle.failed) == (2, 1)
    state = (await feed_states(settings))[gone]
    assert (state.enabled, state.last_status) == (False, 410)
    assert state.disabled_reason is not None
    assert state.disabled_reason.startswith("HTTP 410 Gone: the publisher removed the feed")
    second = await run_once(settings)  # a restart syncs the config: the feed stays off
    assert (second.cycle.feeds, site.hits("/gone.xml")) == (1, 1)

    config = write_config(
        tmp_path / "feeds.toml", database_url=settings.database_url, feeds=[gone, good]
    )
    status, out, _ = await monitor("--config", str(config), "feeds", "list", cwd=tmp_path)
    assert status == 0
    header, *rows = out.splitlines()
    assert header.split()[:5] == ["STATUS", "HTTP", "ERRORS", "REFUSED", "NEXT"]
    [row] = [line for line in rows if gone in line]
    assert row.split()[:5] == ["gone", "410", "1", "0", "-"]
    assert "HTTP 410 Gone: the publisher removed the feed" in row


async def test_retry_after_is_honoured_in_seconds_and_as_a_date(
    site: Site, make_settings: Any
) -> None:
    before = datetime.now(UTC)
    in_three_hours = before + timedelta(hours=3)
    busy = site.serve("/busy.xml", "", status=429, headers={"Retry-After": "7200"})
    down = site.serve(
        "/down.xml", "", status=503, headers={"Retry-After": format_datetime(in_three_hours, True)}
    )
    settings = make_settings([busy, down])

    report = await run_once(settings)

    assert report.cycle.failed == 2
    states = await feed_states(settings)
    assert states[busy].next_check_at >= before + timedelta(seconds=7200)
    assert states[busy].next_check_at <= before + timedelta(seconds=7300)
    assert near(states[down].next_check_at, in_three_hours, MINUTE)
    assert (states[busy].last_status, states[busy].last_error) == (
        429,
        "HTTP 429 Too Many Requests",
    )


async def test_the_next_check_follows_the_publishing_rate_and_the_publishers_hints(
    site: Site, make_settings: Any
) -> None:
    hourly = site.serve("/hourly.xml", dated(timedelta(hours=1)))
    busy = site.serve("/busy.xml", dated(MINUTE))  # every minute: held at the 5 min minimum
    ttl = site.serve(
        "/ttl.xml",
        dated(10 * MINUTE).replace("<description>test</description>", "<ttl>180</ttl>", 1),
    )
    max_age = site.serve(
        "/max-age.xml", dated(10 * MINUTE), headers={"Cache-Control": "max-age=14400"}
    )
    expires = site.serve(
        "/expires.xml",
        dated(10 * MINUTE),
        headers={"Expires": format_datetime(datetime.now(UTC) + timedelta(hours=5), True)},
    )
    undated = site.serve("/undated.xml", rss([UNRELATED]))
    settings = make_settings([hourly, busy, ttl, max_age, expires, undated])
    before = datetime.now(UTC)

    await run_once(settings)

    states = await feed_states(settings)
    assert near(states[hourly].next_check_at, before + timedelta(hours=1), 7 * MINUTE)
    assert near(states[busy].next_check_at, before + 5 * MINUTE, MINUTE)
    assert states[busy].next_check_at >= before + 5 * MINUTE
    assert states[ttl].next_check_at >= before + timedelta(hours=3)
    assert states[max_age].next_check_at >= before + timedelta(hours=4)
    assert near(states[expires].next_check_at, before + timedelta(hours=5), MINUTE)
    assert near(states[undated].next_check_at, before + 15 * MINUTE, 2 * MINUTE)  # the default


async def test_validators_update_one_by_one_and_an_unchanged_body_is_not_parsed_again(
    site: Site, make_settings: Any
) -> None:
    seen: list[dict[str, str]] = []
    body = rss([UNRELATED])

    async def feed(request: web.Request) -> web.Response:
        seen.append(dict(request.headers))
        if len(seen) == 1:
            return web.Response(
                text=body,
                content_type="application/rss+xml",
                headers={"ETag": '"v1"', "Last-Modified": "Fri, 26 Jan 2024 09:00:00 GMT"},
            )
        if len(seen) == 2:  # only Last-Modified changes (RFC 9111 §4.3.4)
            return web.Response(
                status=304, headers={"Last-Modified": "Sat, 27 Jan 2024 09:00:00 GMT"}
            )
        return web.Response(text=body, content_type="application/rss+xml")  # no validators

    settings = make_settings([site.handle("/feed.xml", feed)])
    for _ in range(4):
        with structlog.testing.capture_logs() as logs:
            await run_once(settings)

    assert seen[1]["If-None-Match"] == '"v1"'
    assert seen[2]["If-None-Match"] == '"v1"'
    assert seen[2]["If-Modified-Since"] == "Sat, 27 Jan 2024 09:00:00 GMT"
    assert "If-None-Match" not in seen[3]  # the 200 without validators replaced them
    assert not any(entry["event"] == "feed checked" for entry in logs)  # same body: not parsed


async def test_failures_back_off_and_a_success_resets(site: Site, make_settings: Any) -> None:
    answers = [500, 500, 200]

    async def flaky(_request: web.Request) -> web.Response:
        status = answers.pop(0)
        if status == 500:
            return web.Response(status=500, text="oops")
        return web.Response(text=rss([UNRELATED]), content_type="application/rss+xml")

    url = site.handle("/flaky.xml", flaky)
    settings = make_settings([url])
    waits = []
    for _ in range(2):
        before = datetime.now(UTC)
        await run_once(settings)
        waits.append((await feed_states(settings))[url].next_check_at - before)
    # The default interval is 15 min: 30 min after one failure, 60 after two (±10 %).
    assert near(before + waits[0], before + timedelta(minutes=30), 4 * MINUTE)
    assert near(before + waits[1], before + timedelta(minutes=60), 7 * MINUTE)
    assert (await feed_states(settings))[url].error_count == 2
    await run_once(settings)
    state = (await feed_states(settings))[url]
    assert (state.error_count, state.last_error, state.last_status) == (0, None, 200)


async def test_refusals_are_logged_counted_and_never_stop_other_feeds(
    site: Site, receiver: Receiver, fixtures_dir: Path, make_settings: Any
) -> None:
    good = serve_seed(site, fixtures_dir)
    internal = "http://10.0.0.5/feed.xml"
    metadata = "http://169.254.169.254/latest/meta-data/"
    baiting = site.serve(
        "/baiting.xml",
        rss(
            [
                Item(
                    title="US and Iraq open Higher Military Commission talks on troop withdrawal",
                    link=metadata,
                    description="The United States and Iraq began talks on the withdrawal of "
                    "American troops and the end of the coalition mission.",
                )
            ]
        ),
    )
    settings = make_settings(
        [good, internal, baiting],
        receiver.url,
        sections={"fetch": {"allow_networks": ["127.0.0.1/32"]}},
    )

    with structlog.testing.capture_logs([structlog.contextvars.merge_contextvars]) as logs:
        report = await run_once(settings)

    assert (report.cycle.feeds, report.cycle.failed) == (3, 1)
    assert report.delivery.sent == 2  # both stories, the refused page replaced by feed text
    [feed_refusal] = [entry for entry in logs if entry["event"] == "feed fetch refused"]
    assert feed_refusal["feed_url"] == internal
    assert feed_refusal["reason"] == "refused: 10.0.0.5 is a private address"
    [page_refusal] = [entry for entry in logs if entry["event"].startswith("article fetch refused")]
    assert (page_refusal["feed_url"], page_refusal["article_url"]) == (baiting, metadata)
    assert "169.254.169.254 is a link-local address" in page_refusal["reason"]
    states = await feed_states(settings)
    assert {url: states[url].refusal_count for url in (good, internal, baiting)} == {
        good: 0,
        internal: 1,
        baiting: 1,
    }


async def test_webhooks_are_exempt_from_the_address_gate(
    site: Site, fixtures_dir: Path, make_settings: Any
) -> None:
    # The receiver listens on 127.0.0.2, which the gate forbids for feeds and articles.
    receiver = await Receiver(host="127.0.0.2").start()
    try:
        settings = make_settings(
            [serve_seed(site, fixtures_dir)],
            receiver.url,
            sections={"fetch": {"allow_networks": ["127.0.0.1/32"]}},
        )
        report = await run_once(settings)
        assert report.delivery.sent == 1
        assert len(receiver.deliveries) == 1
    finally:
        await receiver.close()


async def test_per_host_and_global_limits_hold(make_settings: Any) -> None:
    in_flight = {"127.0.0.1": 0, "127.0.0.2": 0}
    peaks = {"127.0.0.1": 0, "127.0.0.2": 0, "all": 0}

    def handler(host: str) -> Any:
        async def slow(_request: web.Request) -> web.Response:
            in_flight[host] += 1
            peaks[host] = max(peaks[host], in_flight[host])
            peaks["all"] = max(peaks["all"], sum(in_flight.values()))
            await asyncio.sleep(0.1)
            in_flight[host] -= 1
            return web.Response(text=rss([UNRELATED]), content_type="application/rss+xml")

        return slow

    sites = [await Site(host=host).start() for host in in_flight]
    try:
        feeds = [
            server.handle(f"/{n}.xml", handler(host))
            for server, host in zip(sites, in_flight, strict=True)
            for n in range(6)
        ]
        settings = make_settings(
            feeds,
            sections={
                "fetch": {
                    "allow_networks": ["127.0.0.0/8"],
                    "concurrency": 3,
                    "per_host_concurrency": 2,
                }
            },
        )
        report = await run_once(settings)
    finally:
        for server in sites:
            await server.close()
    assert (report.cycle.feeds, report.cycle.failed) == (12, 0)
    assert peaks == {"127.0.0.1": 2, "127.0.0.2": 2, "all": 3}
