"""The database schema (SQLAlchemy typed ORM); Alembic migrations in ``migrations/`` create it."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from sqlalchemy import (
    JSON,
    BigInteger,
    DateTime,
    Dialect,
    ForeignKey,
    Index,
    LargeBinary,
    MetaData,
    String,
    Text,
    TypeDecorator,
    UniqueConstraint,
)
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column


class UTCDateTime(TypeDecorator[datetime]):
    """A timestamp that is always timezone-aware UTC in Python, whatever the database keeps."""

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetimes are not stored; pass an aware UTC datetime")
        value = value.astimezone(UTC)
        # SQLite keeps text; dropping the offset keeps its ordering lexical and its format stable.
        return value.replace(tzinfo=None) if dialect.name == "sqlite" else value

    def process_result_value(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


NAMING = {
    "ix": "ix_%(table_name)s_%(column_0_N_name)s",
    "uq": "uq_%(table_name)s_%(column_0_N_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING)
    type_annotation_map: dict[Any, Any] = {  # noqa: RUF012  (SQLAlchemy reads it as a class dict)
        datetime: UTCDateTime,
        str: Text,
        dict[str, Any]: JSON,
        list[str]: JSON,
        list[int]: JSON,
    }


class FeedRow(Base):
    """A polled feed with the state of its schedule and of its last fetch."""

    __tablename__ = "feeds"

    id: Mapped[int] = mapped_column(primary_key=True)
    url: Mapped[str] = mapped_column(unique=True)
    name: Mapped[str | None]
    title: Mapped[str] = mapped_column(default="")
    origin: Mapped[str] = mapped_column(String(16), default="config")
    enabled: Mapped[bool] = mapped_column(default=True)
    etag: Mapped[str | None]
    last_modified: Mapped[str | None]
    body_hash: Mapped[str | None] = mapped_column(String(64))
    next_check_at: Mapped[datetime] = mapped_column(index=True)
    last_checked_at: Mapped[datetime | None]
    last_success_at: Mapped[datetime | None]
    error_count: Mapped[int] = mapped_column(default=0)
    last_error: Mapped[str | None]
    created_at: Mapped[datetime]
    # Where the feed lives now, after permanent redirects; ``url`` stays the name it was added
    # under, so the config keeps matching it.
    fetch_url: Mapped[str | None]
    poll_interval_seconds: Mapped[float | None]  # learned from its publishing rate
    ttl_seconds: Mapped[float | None]  # its RSS <ttl>, honoured on checks that do not parse
    last_status: Mapped[int | None]
    disabled_reason: Mapped[str | None]  # set when the feed itself asked to stop (410 Gone)
    refusal_count: Mapped[int] = mapped_column(default=0, server_default="0")
    # A replica holds a feed it is checking until this moment (see FeedStore.feeds_to_poll).
    leased_until: Mapped[datetime | None]


class ArticleRow(Base):
    """A story the pipeline kept; its canonical URL and per-feed GUID decide whether it is new."""

    __tablename__ = "articles"
    __table_args__ = (UniqueConstraint("feed_id", "guid"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    feed_id: Mapped[int | None] = mapped_column(ForeignKey("feeds.id", ondelete="SET NULL"))
    guid: Mapped[str]
    url: Mapped[str]
    canonical_url: Mapped[str] = mapped_column(unique=True)
    title: Mapped[str]
    summary: Mapped[str]
    text: Mapped[str]
    language: Mapped[str | None] = mapped_column(String(8))
    published_at: Mapped[datetime | None]
    created_at: Mapped[datetime]
    # What the feed was called when it carried the article (None before stories existed).
    source_title: Mapped[str | None]
    # None for articles stored before stories existed.
    story_id: Mapped[int | None] = mapped_column(
        ForeignKey("stories.id", ondelete="SET NULL"), index=True
    )
    # The story it was in before an operator merged that story into this one.
    merged_from: Mapped[int | None] = mapped_column(ForeignKey("stories.id", ondelete="SET NULL"))


class StoryRow(Base):
    """Articles about one event, from one outlet or many; a story alerts once per topic."""

    __tablename__ = "stories"

    id: Mapped[int] = mapped_column(primary_key=True)
    title: Mapped[str]  # the first article's
    article_count: Mapped[int] = mapped_column(default=1)
    source_count: Mapped[int] = mapped_column(default=1)  # distinct outlets
    first_seen_at: Mapped[datetime] = mapped_column(index=True)
    last_seen_at: Mapped[datetime]
    created_at: Mapped[datetime]
    # An operator merged this story into that one; its articles moved there.
    merged_into: Mapped[int | None] = mapped_column(ForeignKey("stories.id", ondelete="SET NULL"))


class StoryTopicRow(Base):
    """A story's state for one topic: its highest level so far, when it alerted, and how many
    sources it had when endpoints were last told about it."""

    __tablename__ = "story_topics"

    story_id: Mapped[int] = mapped_column(
        ForeignKey("stories.id", ondelete="CASCADE"), primary_key=True
    )
    topic: Mapped[str] = mapped_column(String(100), primary_key=True)
    level: Mapped[str] = mapped_column(String(8))
    alerted_at: Mapped[datetime | None] = mapped_column(index=True)
    notified_sources: Mapped[int] = mapped_column(default=0)


class FingerprintRow(Base):
    """An article's story fingerprint, and the grouping decision made for it: why it joined
    its story (or started one), the closest article then, their similarity, shared terms."""

    __tablename__ = "fingerprints"

    article_id: Mapped[int] = mapped_column(
        ForeignKey("articles.id", ondelete="CASCADE"), primary_key=True
    )
    at: Mapped[datetime]  # publication time (or arrival, without one)
    title_terms: Mapped[list[str]]
    terms: Mapped[list[str]]
    names: Mapped[list[str]]
    numbers: Mapped[list[str]]
    signature: Mapped[bytes] = mapped_column(LargeBinary)
    reason: Mapped[str] = mapped_column(String(16))  # new, duplicate, event or split
    similarity: Mapped[float]
    closest_article_id: Mapped[int | None] = mapped_column(
        ForeignKey("articles.id", ondelete="SET NULL")
    )
    shared: Mapped[list[str]]
    # Event evidence (None in fingerprints stored before it was kept: no evidence).
    actions: Mapped[list[str] | None]
    figures: Mapped[list[str] | None]
    text_names: Mapped[list[str] | None]
    renewed: Mapped[bool | None]


class StoryKeyRow(Base):
    """The lookup index of recent articles: one row per fingerprint key (a term or an LSH
    band) and article, searched by key within a time window."""

    __tablename__ = "story_keys"

    # The primary key is the index a lookup walks: a key, then a time range.
    key: Mapped[int] = mapped_column(BigInteger, primary_key=True, autoincrement=False)
    at: Mapped[datetime] = mapped_column(primary_key=True)
    article_id: Mapped[int] = mapped_column(
        ForeignKey("articles.id", ondelete="CASCADE"), primary_key=True, autoincrement=False
    )


class TermCountRow(Base):
    """In how many fingerprinted articles a term occurs; the term "" counts them all. Rare terms
    weigh more in the similarity of two articles."""

    __tablename__ = "term_counts"

    term: Mapped[str] = mapped_column(primary_key=True)
    articles: Mapped[int] = mapped_column(default=0)


class MatchRow(Base):
    """Why an article belongs to a topic: its level (alert or digest), its score, the terms and
    the rules that fired."""

    __tablename__ = "matches"
    __table_args__ = (UniqueConstraint("article_id", "topic"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    article_id: Mapped[int] = mapped_column(ForeignKey("articles.id", ondelete="CASCADE"))
    topic: Mapped[str] = mapped_column(String(100))
    level: Mapped[str] = mapped_column(String(8))
    score: Mapped[float]
    terms: Mapped[list[str]]
    rules: Mapped[list[str]]
    created_at: Mapped[datetime]


class AlertRow(Base):
    """The outbox: one message per row with its delivery state. An ``article.matched`` alert
    (the first alert-level article of a story) or a ``story.updated`` event per (article, topic,
    endpoint) is written with its article; a ``digest`` row per endpoint and digest time has no
    article."""

    __tablename__ = "alerts"
    __table_args__ = (
        UniqueConstraint("article_id", "topic", "endpoint"),
        Index("ix_alerts_status_next_attempt_at", "status", "next_attempt_at"),
        Index("ix_alerts_created_at_id", "created_at", "id"),
        Index("ix_alerts_status_created_at_id", "status", "created_at", "id"),  # ?status=
    )

    id: Mapped[str] = mapped_column(String(36), primary_key=True)
    kind: Mapped[str] = mapped_column(String(32), default="article.matched")
    article_id: Mapped[int | None] = mapped_column(ForeignKey("articles.id", ondelete="CASCADE"))
    # The story an article alert or a story update is about; its pending payloads follow it.
    story_id: Mapped[int | None] = mapped_column(
        ForeignKey("stories.id", ondelete="SET NULL"), index=True
    )
    topic: Mapped[str] = mapped_column(String(100))
    endpoint: Mapped[str] = mapped_column(String(100))
    status: Mapped[str] = mapped_column(String(16), default="pending")
    # Why a story.updated event was sent; a digest's matches, one per story. The payload is
    # rendered from these facts when the row is sent.
    reasons: Mapped[list[str] | None]
    digest_match_ids: Mapped[list[int] | None]
    # Only rows queued by a version that stored rendered payloads have one.
    payload: Mapped[dict[str, Any] | None]
    attempts: Mapped[int] = mapped_column(default=0)
    next_attempt_at: Mapped[datetime]
    # A sender holds a row until this moment; a sender killed mid-send lets it go by expiry.
    claimed_until: Mapped[datetime | None]
    # Which claim holds the row: a sender whose lease ran out can no longer change it.
    claim_token: Mapped[str | None] = mapped_column(String(36))
    last_status_code: Mapped[int | None]
    last_error: Mapped[str | None]
    created_at: Mapped[datetime]
    delivered_at: Mapped[datetime | None]


class AttemptRow(Base):
    """One delivery attempt of an alert: when, how long, and what the receiver answered."""

    __tablename__ = "attempts"
    __table_args__ = (UniqueConstraint("alert_id", "number"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    alert_id: Mapped[str] = mapped_column(
        String(36), ForeignKey("alerts.id", ondelete="CASCADE"), index=True
    )
    number: Mapped[int]
    at: Mapped[datetime]
    status_code: Mapped[int | None]
    error: Mapped[str | None]
    duration_ms: Mapped[int]


class EndpointRow(Base):
    """What the database remembers of an endpoint: whether the receiver said 410 Gone, and how
    far its digest has got."""

    __tablename__ = "endpoints"

    name: Mapped[str] = mapped_column(String(100), primary_key=True)
    disabled_reason: Mapped[str | None]
    disabled_at: Mapped[datetime | None]
    digest_after_match_id: Mapped[int] = mapped_column(default=0)
    last_digest_at: Mapped[datetime | None]


class ConfigStateRow(Base):
    """What the database remembers of the configuration it last applied, by key (the digest
    of the config's feed list), so an unchanged config costs nothing at start."""

    __tablename__ = "config_state"

    key: Mapped[str] = mapped_column(String(64), primary_key=True)
    value: Mapped[str]


class TopicFeedbackRow(Base):
    """An operator's correction of a topic: a sentence that is an example of what matters
    (``example``) or of what does not (``counter_example``), and the alert it came from."""

    __tablename__ = "topic_feedback"

    id: Mapped[int] = mapped_column(primary_key=True)
    topic: Mapped[str] = mapped_column(String(100), index=True)
    kind: Mapped[str] = mapped_column(String(16))
    text: Mapped[str]
    alert_id: Mapped[str | None] = mapped_column(String(36))
    created_at: Mapped[datetime]
