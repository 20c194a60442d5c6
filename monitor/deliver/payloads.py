"""The alert payload: what a webhook receiver gets for a matched article (documented in README)."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from monitor.records import NewArticle, StoryInfo, TopicMatch
from monitor.text.redact import redact_url

ARTICLE_MATCHED = "article.matched"
STORY_UPDATED = "story.updated"
DIGEST = "digest"


def iso_utc(moment: datetime | None) -> str | None:
    """ISO 8601 in UTC with a ``Z``, or None."""
    if moment is None:
        return None
    return moment.astimezone(UTC).isoformat(timespec="seconds").replace("+00:00", "Z")


def digest_payload(
    digest_id: str, endpoint: str, stories: list[dict[str, Any]], *, created_at: datetime
) -> dict[str, Any]:
    """The JSON body of a ``digest``: the digest-level stories since the endpoint's last one."""
    return {
        "id": digest_id,
        "type": DIGEST,
        "endpoint": endpoint,
        "created_at": iso_utc(created_at),
        "stories": stories,
    }


def alert_payload(
    alert_id: str,
    match: TopicMatch,
    article: NewArticle,
    *,
    source_title: str,
    source_url: str,
    detected_at: datetime,
) -> dict[str, Any]:
    """The JSON body of an ``article.matched`` alert; ``id`` is also the ``webhook-id`` header.

    The feed's URL is shown redacted: it may carry the publisher's API key."""
    return {
        "id": alert_id,
        "type": ARTICLE_MATCHED,
        "topic": match.topic,
        "title": article.title,
        "url": article.url,
        "source": {"title": source_title, "url": redact_url(source_url)},
        "published_at": iso_utc(article.published_at),
        "summary": article.summary,
        "level": match.level,
        "matched_terms": list(match.terms),
        "matched_rules": list(match.rules),
        "score": match.score,
        "language": article.language,
        "detected_at": iso_utc(detected_at),
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


def with_story(
    payload: dict[str, Any], story: StoryInfo, *, reasons: tuple[str, ...] = ()
) -> dict[str, Any]:
    """``payload`` with its ``story``; with ``reasons`` it becomes a ``story.updated`` event
    about the article that changed the story ("sources": it gained more outlets; "level": it
    now matches at alert level)."""
    result = {**payload, "story": story_field(story)}
    if reasons:
        result["type"] = STORY_UPDATED
        result["reasons"] = list(reasons)
    return result
