"""The facts an outbox row's payload is rendered from, read when it is claimed or shown: the
article and its outlet, its match, and the story as it stands then."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import replace

from sqlalchemy import func, select, tuple_
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import aliased

from monitor.parse.urls import outlet
from monitor.records import (
    ARTICLE_MATCHED,
    DIGEST,
    AlertArticle,
    DigestItem,
    Level,
    PendingAlert,
    RelatedStory,
    StoryInfo,
    StorySource,
    TopicMatch,
)
from monitor.store.stories import story_info
from monitor.store.tables import (
    AlertRow,
    ArticleRow,
    FeedRow,
    FingerprintRow,
    MatchRow,
    StoryRow,
)


async def alert_facts(session: AsyncSession, rows: Sequence[AlertRow]) -> list[PendingAlert]:
    """Each row with its facts, read in a few queries for the whole batch."""
    fresh = [row for row in rows if row.payload is None]
    digest_matches = await _matches_by_id(
        session, [i for row in fresh if row.kind == DIGEST for i in row.digest_match_ids or []]
    )
    alert_matches = await _matches_by_article(
        session, [(row.article_id, row.topic) for row in fresh if row.article_id is not None]
    )
    article_ids = {row.article_id for row in fresh if row.article_id is not None}
    article_ids |= {match.article_id for match in digest_matches.values()}
    articles = await _articles(session, article_ids)
    story_ids = {row.story_id for row in fresh if row.story_id is not None}
    story_ids |= {
        story
        for match in digest_matches.values()
        if (story := articles[match.article_id][1]) is not None
    }
    stories = {story_id: await story_info(session, story_id) for story_id in sorted(story_ids)}
    related = await _related_stories(
        session,
        {
            row.article_id: stories.get(row.story_id) if row.story_id is not None else None
            for row in fresh
            if row.kind == ARTICLE_MATCHED and row.article_id is not None
        },
    )
    pending = [_pending(row, alert_matches, digest_matches, articles, stories) for row in rows]
    return [
        replace(alert, related_story=related[row.article_id])
        if row.payload is None and row.kind == ARTICLE_MATCHED and row.article_id in related
        else alert
        for row, alert in zip(rows, pending, strict=True)
    ]


async def _related_stories(
    session: AsyncSession, own: dict[int, StoryInfo | None]
) -> dict[int, RelatedStory]:
    """For each article marked as likely the same event as another story's article, that
    story as it is now (followed into the story an operator merged it into)."""
    if not own:
        return {}
    closest = aliased(ArticleRow)
    rows = await session.execute(
        select(FingerprintRow, closest.story_id)
        .join(closest, closest.id == FingerprintRow.closest_article_id)
        .where(FingerprintRow.article_id.in_(sorted(own)), FingerprintRow.reason == "related")
    )
    found = {}
    for print_, story_id in rows.all():
        story = await session.get(StoryRow, story_id) if story_id is not None else None
        while story is not None and story.merged_into is not None:
            story = await session.get(StoryRow, story.merged_into)
        if story is None:
            continue
        theirs = await story_info(session, story.id)
        mine = own.get(print_.article_id)
        outlets = {_outlet(source) for source in theirs.sources}
        outlets |= {_outlet(source) for source in (mine.sources if mine else ())}
        found[print_.article_id] = RelatedStory(
            id=story.id,
            title=story.title,
            similarity=print_.similarity,
            shared=tuple(print_.shared),
            source_count=len(outlets),
        )
    return found


def _outlet(source: StorySource) -> str:
    return outlet(source.article_url) or source.url or source.article_url


def _pending(
    row: AlertRow,
    alert_matches: dict[tuple[int, str], MatchRow],
    digest_matches: dict[int, MatchRow],
    articles: dict[int, tuple[AlertArticle, int | None]],
    stories: dict[int, StoryInfo],
) -> PendingAlert:
    pending = PendingAlert(
        id=row.id,
        endpoint=row.endpoint,
        attempts=row.attempts,
        kind=row.kind,
        created_at=row.created_at,
        reasons=tuple(row.reasons or ()),
        stored_payload=row.payload,
    )
    if row.payload is not None:
        return pending
    if row.kind == DIGEST:
        items = []
        for match_id in row.digest_match_ids or []:
            if (match := digest_matches.get(match_id)) is None:
                continue  # its article was deleted since the digest was queued
            article, story_id = articles[match.article_id]
            story = stories.get(story_id) if story_id is not None else None
            items.append(DigestItem(article=article, match=_topic_match(match), story=story))
        return replace(pending, digest=tuple(items))
    if row.article_id is None or row.article_id not in articles:
        return pending
    match = alert_matches.get((row.article_id, row.topic))
    return replace(
        pending,
        article=articles[row.article_id][0],
        match=_topic_match(match) if match is not None else None,
        story=stories.get(row.story_id) if row.story_id is not None else None,
    )


def _topic_match(row: MatchRow) -> TopicMatch:
    level: Level = "alert" if row.level == "alert" else "digest"
    return TopicMatch(row.topic, level, row.score, tuple(row.terms), tuple(row.rules))


async def _matches_by_id(session: AsyncSession, ids: Sequence[int]) -> dict[int, MatchRow]:
    if not ids:
        return {}
    rows = await session.scalars(select(MatchRow).where(MatchRow.id.in_(sorted(set(ids)))))
    return {row.id: row for row in rows}


async def _matches_by_article(
    session: AsyncSession, keys: Sequence[tuple[int, str]]
) -> dict[tuple[int, str], MatchRow]:
    if not keys:
        return {}
    rows = await session.scalars(
        select(MatchRow).where(tuple_(MatchRow.article_id, MatchRow.topic).in_(sorted(set(keys))))
    )
    return {(row.article_id, row.topic): row for row in rows}


async def _articles(
    session: AsyncSession, ids: set[int]
) -> dict[int, tuple[AlertArticle, int | None]]:
    """Each article as alerts describe it, with the story it is in now."""
    if not ids:
        return {}
    rows = await session.execute(
        select(
            ArticleRow,
            func.coalesce(
                func.nullif(ArticleRow.source_title, ""),
                func.nullif(FeedRow.title, ""),
                FeedRow.name,
                "",
            ),
            FeedRow.url,
        )
        .outerjoin(FeedRow, FeedRow.id == ArticleRow.feed_id)
        .where(ArticleRow.id.in_(sorted(ids)))
    )
    return {
        article.id: (
            AlertArticle(
                title=article.title,
                url=article.url,
                summary=article.summary,
                published_at=article.published_at,
                language=article.language,
                source_title=source_title,
                source_url=feed_url or "",
            ),
            article.story_id,
        )
        for article, source_title, feed_url in rows.all()
    }
