"""Alert delivery: alerts per second to a local receiver, and the latency from commit to delivery.

A webhook receiver runs in a separate process: it notes when each alert arrives, then answers
204 after ``--receiver-ms`` (a real endpoint takes a moment). In this process, alerts are
committed through the real store (``Store.save_article``, the pipeline's own transaction, one
article and its alert each) and sent by the real, signing sender, for each concurrency in turn
(1, then 4, the default):

- burst: ``--alerts`` alerts committed at once, then one delivery pass drains the outbox, as a
  daemon back from a receiver outage would: alerts delivered per second;
- stream: polls every ``--interval`` seconds, each committing ``--per-poll`` alerts and then
  asking for a delivery at once, as the daemon's poll job does, with the daemon's scheduler and
  delivery job: the time from each commit to its arrival at the receiver (p50, p95, max), and
  to its being recorded delivered.

Usage: python bench/delivery.py [--alerts 500] [--polls 40] [--per-poll 5] [--interval 0.5]
                                [--receiver-ms 50] [--concurrency 1 4] [--database sqlite|postgres]
"""

from __future__ import annotations

import argparse
import asyncio
import json
import multiprocessing
import statistics
import sys
import tempfile
import time
import urllib.request
import uuid
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))  # the test helpers write the config, as the tests do

from aiohttp import web  # noqa: E402
from apscheduler.schedulers.asyncio import AsyncIOScheduler  # noqa: E402

from bench.ingest import free_port, wait_until_up  # noqa: E402
from bench.poll import database_url, pin  # noqa: E402
from monitor.app.jobs import DELIVER_JOB, Worker, deliver_pending  # noqa: E402
from monitor.app.logs import configure_logging  # noqa: E402
from monitor.app.pipeline import PipelineContext  # noqa: E402
from monitor.app.resources import open_pipeline  # noqa: E402
from monitor.deliver.settings import DEFAULT_WEBHOOK  # noqa: E402
from monitor.records import NewArticle, TopicMatch  # noqa: E402
from monitor.settings import Settings, load_settings  # noqa: E402
from tests.conftest import write_config  # noqa: E402

SECRET = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"
TITLE = "U.S. initiates talks with Iraq on withdrawal of American troops from country"
SUMMARY = (
    "The United States officially confirmed the start of negotiations on the withdrawal of its "
    "troops from Iraq, reports the Pentagon. The Higher Military Commission will facilitate the "
    "transition to a long-term bilateral security partnership between the United States and "
    "Iraq, building on the successes of Iraq's Defeat-Islamic State in Iraq and Syria campaign."
)
MATCH = TopicMatch(
    topic="us-iraq-security-talks",
    level="alert",
    score=9.0,
    terms=("U.S.", "talks", "Iraq*", "withdraw*", "American*", "troop*", "Pentagon"),
    rules=("named talks", "withdrawal", "security talks"),
)


def receive(port: int, delay_ms: float) -> None:
    """The receiver, in its own process and on its own core: notes arrivals, answers 204."""
    pin(1)
    arrived: dict[str, float] = {}

    async def hook(request: web.Request) -> web.Response:
        await request.read()
        arrived.setdefault(request.headers["webhook-id"], time.time())
        await asyncio.sleep(delay_ms / 1000)
        return web.Response(status=204)

    async def arrivals(_request: web.Request) -> web.Response:
        return web.json_response(arrived)

    app = web.Application()
    app.router.add_post("/hook", hook)
    app.router.add_get("/arrivals", arrivals)
    web.run_app(app, host="127.0.0.1", port=port, print=None, access_log=None)


def arrivals(base: str) -> dict[str, float]:
    with urllib.request.urlopen(f"{base}/arrivals", timeout=10) as response:
        found: dict[str, float] = json.load(response)
    return found


async def commit_alert(context: PipelineContext) -> tuple[str, float]:
    """Store one new article with its alert, as the pipeline does; returns the alert's id and
    the moment its transaction committed."""
    key = uuid.uuid4().hex
    now = datetime.now(UTC)
    url = f"https://news.example/world/{key}"
    article = NewArticle(
        feed_id=None,
        guid=key,
        url=url,
        canonical_url=url,
        title=TITLE,
        summary=SUMMARY,
        text=SUMMARY,
        published_at=now,
        language="en",
        matches=(MATCH,),
    )
    await context.store.save_article(article, lambda _topic: [DEFAULT_WEBHOOK], now)
    [alert] = await context.store.list_alerts(limit=1)
    return alert.id, time.time()


@dataclass(frozen=True)
class Result:
    concurrency: int
    burst_per_second: float
    received_ms: list[float]
    recorded_ms: list[float]


async def burst(context: PipelineContext, count: int) -> float:
    """Commit ``count`` alerts, then time one delivery pass over them: alerts per second."""
    for _ in range(count):
        await commit_alert(context)
    started = time.perf_counter()
    report = await deliver_pending(context)
    seconds = time.perf_counter() - started
    assert (report.sent, report.failed) == (count, 0), report
    return count / seconds


async def stream(
    context: PipelineContext, polls: int, per_poll: int, interval: float
) -> dict[str, float]:
    """Polls that commit alerts and ask for a delivery, under the daemon's scheduler; returns
    each alert's commit time."""
    scheduler = AsyncIOScheduler(timezone=UTC, event_loop=asyncio.get_running_loop())
    worker = Worker(context, scheduler)
    scheduler.add_job(
        worker.deliver,
        "interval",
        id=DELIVER_JOB,
        seconds=context.settings.delivery.tick_seconds,
        max_instances=1,
        coalesce=True,
    )
    scheduler.start()
    committed: dict[str, float] = {}
    try:
        for _ in range(polls):
            started = time.perf_counter()
            for _ in range(per_poll):
                alert_id, at = await commit_alert(context)
                committed[alert_id] = at
            worker.deliver_soon()
            await asyncio.sleep(max(0.0, interval - (time.perf_counter() - started)))
        while True:  # until the last poll's alerts are sent and recorded
            await worker.wait_idle(30)
            if not (await context.store.endpoint_states())[DEFAULT_WEBHOOK].pending:
                break
            await asyncio.sleep(0.05)
    finally:
        scheduler.shutdown(wait=False)
    return committed


async def measure(settings: Settings, args: argparse.Namespace, base: str) -> Result:
    async with open_pipeline(settings) as context:
        per_second = await burst(context, args.alerts)
        committed = await stream(context, args.polls, args.per_poll, args.interval)
        details = [await context.store.alert_detail(alert_id) for alert_id in committed]
    received = arrivals(base)
    recorded = {
        detail.alert.id: detail.delivered_at.timestamp()
        for detail in details
        if detail is not None and detail.delivered_at is not None
    }
    assert committed.keys() <= received.keys(), "an alert never reached the receiver"
    assert committed.keys() == recorded.keys(), "an alert was not recorded delivered"
    return Result(
        concurrency=settings.delivery.concurrency,
        burst_per_second=per_second,
        received_ms=[(received[i] - at) * 1000 for i, at in committed.items()],
        recorded_ms=[(recorded[i] - at) * 1000 for i, at in committed.items()],
    )


def percentile(values: list[float], share: float) -> float:
    return statistics.quantiles(values, n=100, method="inclusive")[round(share * 100) - 1]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--alerts", type=int, default=500, help="alerts in the burst")
    parser.add_argument("--polls", type=int, default=40)
    parser.add_argument("--per-poll", type=int, default=5)
    parser.add_argument("--interval", type=float, default=0.5, help="seconds between polls")
    parser.add_argument("--receiver-ms", type=float, default=50)
    parser.add_argument("--concurrency", type=int, nargs="+", default=[1, 4])
    parser.add_argument("--database", choices=["sqlite", "postgres"], default="sqlite")
    args = parser.parse_args()

    port = free_port()
    base = f"http://127.0.0.1:{port}"
    pin(0)
    server = multiprocessing.Process(target=receive, daemon=True, args=(port, args.receiver_ms))
    server.start()
    wait_until_up(f"{base}/arrivals")
    configure_logging("json", "error")
    results: list[Result] = []
    delivery = None
    try:
        with tempfile.TemporaryDirectory() as folder:
            for concurrency in args.concurrency:
                config = write_config(
                    Path(folder) / f"c{concurrency}.toml",
                    feeds=[],
                    database_url=database_url(args.database, folder, f"c{concurrency}"),
                    webhook_url=f"{base}/hook",
                    webhook_secret=SECRET,
                    sections={"delivery": {"concurrency": concurrency, "timeout_seconds": 15}},
                )
                settings = load_settings(config)
                results.append(asyncio.run(measure(settings, args, base)))
                delivery = settings.delivery
    finally:
        server.terminate()
        server.join()

    assert delivery is not None
    print(
        f"receiver answers 204 after {args.receiver_ms:g} ms, in its own process; "
        f"{args.database}; batch size {delivery.batch_size}, lease {delivery.lease_seconds:g} s; "
        f"signed; burst of {args.alerts} alerts; stream of {args.polls} polls x "
        f"{args.per_poll} alerts every {args.interval:g} s"
    )
    print(
        f"{'concurrency':>11}  {'burst alerts/s':>14}  "
        f"{'commit -> received p50 / p95 / max':>35}  {'commit -> recorded p50 / p95':>28}"
    )
    for result in results:
        received, recorded = result.received_ms, result.recorded_ms
        print(
            f"{result.concurrency:>11}  {result.burst_per_second:>14.1f}  "
            f"{percentile(received, 0.5):>13.0f} / {percentile(received, 0.95):>4.0f} / "
            f"{max(received):>4.0f} ms  "
            f"{percentile(recorded, 0.5):>17.0f} / {percentile(recorded, 0.95):>4.0f} ms"
        )
    if len(results) > 1:
        first, last = results[0], results[-1]
        print(
            f"concurrency {last.concurrency} vs {first.concurrency}: "
            f"{last.burst_per_second / first.burst_per_second:.1f}x the alerts per second, "
            f"p95 latency {percentile(last.received_ms, 0.95):.0f} ms vs "
            f"{percentile(first.received_ms, 0.95):.0f} ms"
        )


if __name__ == "__main__":
    main()
