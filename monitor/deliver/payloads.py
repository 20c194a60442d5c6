"""The JSON payloads a webhook receiver gets (documented in README), rendered at send time from
the facts the outbox stores: the article, its match, the story as it stands."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from monitor.records import (
    DIGEST,
    STORY_UPDATED,
    AlertArticle,
    DigestItem,
    PendingAlert,
    RelatedStory,
    StoryInfo,
    TopicMatch,
)
from monitor.text.redact import redact_url


def iso_utc(moment: datetime | None) -> str | None:
    """ISO 8601 in UTC with a ``Z``, or None."""
    if moment is None:
        return None
    return moment.astimezone(UTC).isoformat(timespec="seconds").replace("+00:00", "Z")


def render_payload(alert: PendingAlert) -> dict[str, Any]:
    """The body of an outbox row; ``id`` is also the ``webhook-id`` header."""
    if alert.stored_payload is not None:
        return dict(alert.stored_payload)
    if alert.kind == DIGEST:
        return digest_payload(alert.id, alert.endpoint, alert.digest, created_at=alert.created_at)
    if alert.article is None or alert.match is None:
        raise ValueError(f"alert {alert.id} has neither an article nor a stored payload")
    payload = alert_payload(alert.id, alert.match, alert.article, detected_at=alert.created_at)
    if alert.story is not None:
        payload["story"] = story_field(alert.story)
    if alert.related_story is not None:
        payload["related_story"] = related_story_field(alert.related_story)
    if alert.reasons:
        payload["type"] = STORY_UPDATED
        payload["reasons"] = list(alert.reasons)
    return payload


def alert_payload(
    alert_id: str, match: TopicMatch, article: AlertArticle, *, detected_at: datetime
) -> dict[str, Any]:
    """The JSON body of an ``article.matched`` alert, before its ``story``."""
    return {
        "id": alert_id,
        "type": "article.matched",
        "topic": match.topic,
        **_article_fields(article),
        "level": match.level,
        "matched_terms": list(match.terms),
        "matched_rules": list(match.rules),
        "score": match.score,
        "language": article.language,
        "detected_at": iso_utc(detected_at),
    }


def digest_payload(
    digest_id: str, endpoint: str, items: tuple[DigestItem, ...], *, created_at: datetime
) -> dict[str, Any]:
    """The JSON body of a ``digest``: one entry per story since the endpoint's last digest."""
    return {
        "id": digest_id,
        "type": DIGEST,
        "endpoint": endpoint,
        "created_at": iso_utc(created_at),
        "stories": [_digest_entry(item) for item in items],
    }


def story_field(story: StoryInfo) -> dict[str, Any]:
    """The ``story`` of a payload: its id, how many articles it has, and every outlet that
    carried it, the first one first."""
    return {
        "id": story.id,
        "article_count": story.article_count,
        "sources": [
            {
                "title": source.title,
                "url": redact_url(source.url),
                "article_title": source.article_title,
                "article_url": source.article_url,
            }
            for source in story.sources
        ],
    }


def related_story_field(related: RelatedStory) -> dict[str, Any]:
    """The ``related_story`` of an alert marked as a likely follow-up: the story it likely
    reports the same event as, how close it came, the evidence shared, the outlets in all."""
    return {
        "id": related.id,
        "title": related.title,
        "similarity": related.similarity,
        "shared": list(related.shared),
        "source_count": related.source_count,
    }


def _article_fields(article: AlertArticle) -> dict[str, Any]:
    return {
        "title": article.title,
        "url": article.url,
        # The feed's URL may carry the publisher's API key: it is shown redacted.
        "source": {"title": article.source_title, "url": redact_url(article.source_url)},
        "published_at": iso_utc(article.published_at),
        "summary": article.summary,
    }


def _digest_entry(item: DigestItem) -> dict[str, Any]:
    entry = {
        "topic": item.match.topic,
        **_article_fields(item.article),
        "matched_terms": list(item.match.terms),
        "matched_rules": list(item.match.rules),
        "score": item.match.score,
    }
    if item.story is not None:
        entry["story"] = story_field(item.story)
    return entry
