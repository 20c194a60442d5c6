"""Frozen records passed between the pipeline's stages."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Literal

# How urgently a match is sent: at once, or kept for a digest.
Level = Literal["alert", "digest"]
LEVELS: tuple[Level, ...] = ("alert", "digest")


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
    # The closest an operator's "not relevant" feedback comes; near enough, it overrules rules.
    veto_similarity: float = 0.0
    nearest_veto: str = ""


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
class RelatedStory:
    """The story an article's own story likely reports the same event as (the middle zone of
    grouping): its id and first headline, how close the article came, the evidence shared,
    and how many outlets the two stories have between them now."""

    id: int
    title: str
    similarity: float
    shared: tuple[str, ...]
    source_count: int


# What an outbox row sends: an alert, an update of an alerted story, or a digest.
ARTICLE_MATCHED = "article.matched"
STORY_UPDATED = "story.updated"
DIGEST = "digest"


@dataclass(frozen=True, slots=True)
class AlertArticle:
    """An article as alerts describe it: what it says and the outlet that published it."""

    title: str
    url: str
    summary: str
    published_at: datetime | None
    language: str | None
    source_title: str
    source_url: str


@dataclass(frozen=True, slots=True)
class DigestItem:
    """One story of a digest: its first article in the digest, that article's match, and the
    story as it stands (None for an article stored before stories existed)."""

    article: AlertArticle
    match: TopicMatch
    story: StoryInfo | None


@dataclass(frozen=True, slots=True)
class PendingAlert:
    """An outbox row with the stored facts its payload is rendered from at send time: so a
    story that gained outlets while its alert waited is sent as it stands, and nothing in the
    database holds a rendered payload that would need rewriting."""

    id: str
    endpoint: str
    attempts: int
    kind: str  # ARTICLE_MATCHED, STORY_UPDATED or DIGEST
    created_at: datetime
    article: AlertArticle | None = None
    match: TopicMatch | None = None
    story: StoryInfo | None = None
    reasons: tuple[str, ...] = ()  # why a story.updated event was sent
    digest: tuple[DigestItem, ...] = ()
    # The alert's article likely reports the same event as this story: a marked follow-up.
    related_story: RelatedStory | None = None
    # The body of a row queued by a version that stored rendered payloads; sent as it is.
    stored_payload: dict[str, object] | None = None
    # The claim that holds the row: only its holder may record what became of it.
    claim: str | None = None


@dataclass(frozen=True, slots=True)
class StoryFingerprint:
    """The terms of an article's title and lead, its names and headline numbers, and the
    MinHash signature of its title and text (empty when the text is too short to compare)."""

    title_terms: frozenset[str]
    terms: frozenset[str]  # title and lead words, and names
    names: frozenset[str]
    numbers: frozenset[str]
    signature: bytes = b""
    # Event evidence: the headline's verb classes ("visit", "strike"), the numbers and dates
    # mentioned in title, lead and text, and the names in the text beyond the lead.
    actions: tuple[str, ...] = ()  # the main one first
    figures: frozenset[str] = frozenset()
    text_names: frozenset[str] = frozenset()
    renewed: bool = False  # the headline says it is a new occurrence ("new strikes")
