"""Storage: feeds, articles, stories, matches and the alert outbox, over one SQLAlchemy async
engine.

``Store`` is a facade: each concern is a repository with a public contract of its own
(``store.feeds``, ``store.outbox``…), and the facade names the operations the rest of the program
uses. The same code serves SQLite and PostgreSQL.
"""

from __future__ import annotations

from sqlalchemy.ext.asyncio import AsyncEngine

from monitor.store.articles import ArticleRepository, SplitOutcome
from monitor.store.base import Database
from monitor.store.console_views import ConsoleViews
from monitor.store.digests import DigestRepository
from monitor.store.endpoints import EndpointRepository
from monitor.store.feedback import FeedbackRepository
from monitor.store.feeds import FeedRepository, FeedStatus
from monitor.store.outbox import AlertStatus, OutboxRepository
from monitor.store.retention import RetentionRepository
from monitor.store.status import StatusRepository
from monitor.store.stories import StoryRepository
from monitor.store.story_edits import MergeOutcome, MergeRefusedError, StoryEdits
from monitor.store.views import StoryViews

__all__ = [
    "AlertStatus",
    "FeedStatus",
    "MergeOutcome",
    "MergeRefusedError",
    "SplitOutcome",
    "Store",
]


class Store:
    """Typed operations on the database; every operation is one short transaction."""

    def __init__(self, engine: AsyncEngine) -> None:
        self.db = db = Database(engine)
        self.feeds = feeds = FeedRepository(db)
        self.stories = StoryRepository(db)
        self.articles = articles = ArticleRepository(db, self.stories)
        self.story_edits = StoryEdits(db, self.stories)
        self.outbox = outbox = OutboxRepository(db)
        self.endpoints = endpoints = EndpointRepository(db)
        self.digests = DigestRepository(db)
        self.story_views = views = StoryViews(db)
        self.status = status = StatusRepository(db)
        self.retention = retention = RetentionRepository(db)
        self.console = ConsoleViews(db)
        self.feedback = FeedbackRepository(db)  # an operator's examples per topic

        # Feeds: the config's, the operator's, and their schedule and state.
        self.sync_config_feeds = feeds.sync_config_feeds
        self.add_feed = feeds.add_feed
        self.remove_feed = feeds.remove_feed
        self.feeds_to_poll = feeds.feeds_to_poll
        self.release_feeds = feeds.release_feeds
        self.extend_feed_leases = feeds.extend_feed_leases
        self.record_parsed = feeds.record_parsed
        self.record_unchanged = feeds.record_unchanged
        self.record_feed_failure = feeds.record_feed_failure
        self.count_refusal = feeds.count_refusal
        self.list_feeds = feeds.list_feeds
        # Articles, their stories and the alerts they send.
        self.is_known = articles.is_known
        self.save_article = articles.save_article
        self.save_articles = articles.save_articles
        self.split_article = articles.split_article
        self.merge_stories = self.story_edits.merge_stories
        self.match_levels = articles.match_levels
        self.count_articles = articles.count_articles
        self.list_stories = views.list_stories
        self.story_detail = views.story_detail
        self.story_links = views.story_links
        # The outbox, its endpoints and digests.
        self.claim_due = outbox.claim_due
        self.release = outbox.release
        self.extend_claims = outbox.extend_claims
        self.record_attempt = outbox.record_attempt
        self.list_alerts = outbox.list_alerts
        self.alert_detail = outbox.alert_detail
        self.retry_alerts = outbox.retry_alerts
        self.replay_alerts = outbox.replay_alerts
        self.move_alerts = outbox.move_alerts
        self.ensure_endpoints = endpoints.ensure_endpoints
        self.disable_endpoint = endpoints.disable_endpoint
        self.enable_endpoint = endpoints.enable_endpoint
        self.endpoint_states = endpoints.endpoint_states
        self.queue_digest = self.digests.queue_digest
        # Health, metrics, retention, recovery.
        self.ping = status.ping
        self.snapshot = status.snapshot
        self.release_all_claims = status.release_all_claims
        self.prune = retention.prune
        self.forget_story_keys = retention.forget_story_keys

    @property
    def is_postgresql(self) -> bool:
        return self.db.is_postgresql
