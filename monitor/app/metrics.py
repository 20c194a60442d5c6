"""Prometheus metrics: counters and histograms moved by the work as it happens, and gauges
read from the database when ``/metrics`` is scraped (so every replica reports the same truth).

One ``Metrics`` object per process, on its own registry, passed down like the settings.
"""

from __future__ import annotations

from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram, generate_latest

from monitor.store.status import Snapshot

CONTENT_TYPE = "text/plain; version=0.0.4; charset=utf-8"


class Metrics:
    """Everything ``/metrics`` shows."""

    def __init__(self) -> None:
        self.registry = CollectorRegistry(auto_describe=True)
        registry = self.registry
        self.fetches = Counter(
            "monitor_feed_fetches",
            "Feed checks by outcome (ok, not_modified, unchanged, error, refused, gone).",
            ["outcome"],
            registry=registry,
        )
        self._fetches: dict[str, Counter] = {}
        self.fetch_seconds = Histogram(
            "monitor_feed_fetch_seconds",
            "Time to fetch a feed, redirects included.",
            buckets=(0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60),
            registry=registry,
        )
        self.entries = Counter(
            "monitor_feed_entries_parsed", "Entries read from feeds.", registry=registry
        )
        self.entry_failures = Counter(
            "monitor_entry_failures",
            "Feed entries a stage failed on, by stage (article: the feed's text was used "
            "instead; entry: the entry is tried again at the next check).",
            ["stage"],
            registry=registry,
        )
        self.attempts = Counter(
            "monitor_delivery_attempts",
            "Webhook delivery attempts by outcome (delivered, retry, dead, held).",
            ["outcome"],
            registry=registry,
        )
        self.delivery_seconds = Histogram(
            "monitor_delivery_seconds",
            "Time a webhook receiver took to answer.",
            buckets=(0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 15),
            registry=registry,
        )
        self.last_poll = Gauge(
            "monitor_last_successful_poll_timestamp_seconds",
            "When this process last finished a poll tick.",
            registry=registry,
        )
        self.articles = Gauge("monitor_articles", "Articles stored.", registry=registry)
        self.matches = Gauge(
            "monitor_topic_matches",
            "Stored articles matching a topic, by topic and level.",
            ["topic", "level"],
            registry=registry,
        )
        self.feeds = Gauge("monitor_feeds", "Feeds by status.", ["status"], registry=registry)
        self.alerts = Gauge(
            "monitor_alerts", "Alerts in the outbox by status.", ["status"], registry=registry
        )
        self.pending = Gauge(
            "monitor_alerts_pending_due",
            "Pending alerts whose next attempt is due: the delivery queue's depth.",
            registry=registry,
        )

    def record_feed(self, outcome: str, seconds: float, entries: int) -> None:
        """One feed check: its outcome, how long it took, how many entries it read."""
        fetches = self._fetches.get(outcome)
        if fetches is None:  # labels() takes a lock and checks its values: once per outcome
            fetches = self._fetches[outcome] = self.fetches.labels(outcome)
        fetches.inc()
        self.fetch_seconds.observe(seconds)
        if entries:
            self.entries.inc(entries)

    def record_delivery(self, outcome: str, duration_ms: int) -> None:
        """One delivery attempt: its outcome and how long the receiver took."""
        self.attempts.labels(outcome).inc()
        self.delivery_seconds.observe(duration_ms / 1000)

    def show(self, snapshot: Snapshot) -> None:
        """Set the gauges that describe the database."""
        for gauge, values in ((self.feeds, snapshot.feeds), (self.alerts, snapshot.alerts)):
            gauge.clear()
            for status, count in values.items():
                gauge.labels(status).set(count)
        self.matches.clear()
        for (topic, level), count in snapshot.matches.items():
            self.matches.labels(topic, level).set(count)
        self.articles.set(snapshot.articles)
        self.pending.set(snapshot.pending_due)

    def render(self) -> bytes:
        """The Prometheus text exposition of every metric."""
        return generate_latest(self.registry)
