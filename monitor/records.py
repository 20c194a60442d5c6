"""Frozen records passed between the pipeline's stages."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import TYPE_CHECKING, Literal

if TYPE_CHECKING:
    from monitor.stories.fingerprint import StoryFingerprint


@dataclass(frozen=True, slots=True)
class FeedEntry:
    """One item of a parsed feed, reduced to plain text."""

    guid: str
    url: str
    title: str
    summary: str
    content: str
    published_at: datetime | None


@dataclass(frozen=True, slots=True)
class ParsedFeed:
    """What a feed document says: its title and its entries."""

    title: str
    entries: tuple[FeedEntry, ...]
    warning: str | None = None
    ttl_seconds: float | None = None  # RSS <ttl>: the publisher's "do not check sooner"


@dataclass(frozen=True, slots=True)
class ExtractedPage:
    """The readable part of an article page."""

    title: str
    text: str
    published_at: datetime | None
    language: str | None


@dataclass(frozen=True, slots=True)
class SemanticScore:
    """How close an item came to a topic's example sentences (cosine similarity, -1 to 1), and
    to its closest counter-example; ``raised`` says whether that decided the item's level."""

    similarity: float
    nearest_example: str
    counter_similarity: float = 0.0
    nearest_counter_example: str = ""
    raised: bool = False


@dataclass(frozen=True, slots=True)
class TopicMatch:
    """How a text fared against one topic: its level (None: no match), its score, the terms
    that fired and the rules that fired."""

    topic: str
    level: Literal["alert", "digest"] | None
    score: float
    terms: tuple[str, ...] = field(default=())
    rules: tuple[str, ...] = field(default=())
    semantic: SemanticScore | None = None  # None: the semantic layer was not consulted

    @property
    def matched(self) -> bool:
        return self.level is not None


@dataclass(frozen=True, slots=True)
class Feed:
    """A feed as stored: where it is and what the last check learned."""

    id: int
    url: str
    title: str
    etag: str | None
    last_modified: str | None
    body_hash: str | None
    error_count: int
    fetch_url: str | None = None
    poll_interval_seconds: float | None = None
    ttl_seconds: float | None = None

    @property
    def location(self) -> str:
        """Where to fetch the feed: its new address after a permanent redirect, else its URL."""
        return self.fetch_url or self.url


@dataclass(frozen=True, slots=True)
class NewArticle:
    """An article ready to be stored with its matches; alerts follow from the matches."""

    feed_id: int
    guid: str
    url: str
    canonical_url: str
    title: str
    summary: str
    text: str
    published_at: datetime | None
    language: str | None
    matches: tuple[TopicMatch, ...]
    # What story grouping compares; without one the article is a story of its own.
    fingerprint: StoryFingerprint | None = None
    source_title: str = ""  # the feed's title, as alerts name the outlet


@dataclass(frozen=True, slots=True)
class StorySource:
    """An outlet that carried a story: its feed, and its first article of the story."""

    title: str
    url: str
    article_title: str
    article_url: str


@dataclass(frozen=True, slots=True)
class StoryInfo:
    """A story as alerts describe it: its id, its articles, and its outlets, first first."""

    id: int
    article_count: int
    sources: tuple[StorySource, ...]


@dataclass(frozen=True, slots=True)
class PendingAlert:
    """An outbox row due for delivery."""

    id: str
    endpoint: str
    payload: dict[str, object]
    attempts: int
