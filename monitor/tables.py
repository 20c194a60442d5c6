"""The database schema (SQLAlchemy typed ORM); Alembic migrations in ``alembic/`` create it."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from sqlalchemy import (
    JSON,
    DateTime,
    Dialect,
    ForeignKey,
    Index,
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
    per (article, topic, endpoint) is written with its article; a ``digest`` row per endpoint
    and digest time has no article."""

    __tablename__ = "alerts"
    __table_args__ = (
        UniqueConstraint("article_id", "topic", "endpoint"),
        Index("ix_alerts_status_next_attempt_at", "status", "next_attempt_at"),
    )

    id: Mapped[str] = mapped_column(String(36), primary_key=True)
    kind: Mapped[str] = mapped_column(String(32), default="article.matched")
    article_id: Mapped[int | None] = mapped_column(ForeignKey("articles.id", ondelete="CASCADE"))
    topic: Mapped[str] = mapped_column(String(100))
    endpoint: Mapped[str] = mapped_column(String(100))
    status: Mapped[str] = mapped_column(String(16), default="pending")
    payload: Mapped[dict[str, Any]]
    attempts: Mapped[int] = mapped_column(default=0)
    next_attempt_at: Mapped[datetime]
    # A sender holds a row until this moment; a sender killed mid-send lets it go by expiry.
    claimed_until: Mapped[datetime | None]
    last_status_code: Mapped[int | None]
    last_error: Mapped[str | None]
    created_at: Mapped[datetime]
    delivered_at: Mapped[datetime | None]


class AttemptRow(Base):
    """One delivery attempt of an alert: when, how long, and what the receiver answered."""

    __tablename__ = "attempts"

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
