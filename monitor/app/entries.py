"""One feed entry through the article stages: new? → fetch and extract the page → match again
on the full text → summarise and fingerprint → store, with its alerts. Each stage's failure is
contained here: a bad page falls back to the feed's own text, and any other failure is logged,
counted and retried at the next check, never raised into the feed's check."""

from __future__ import annotations

from typing import TYPE_CHECKING

import structlog

from monitor.fetch.http import PAGE_ACCEPT, FetchError, FetchRefusedError, fetch
from monitor.match.summary import summarise
from monitor.match.topic import match_topic
from monitor.parse.article import ExtractionError, decode_page, extract_page
from monitor.parse.urls import canonical_url
from monitor.records import ExtractedPage, Feed, FeedEntry, NewArticle
from monitor.stories.fingerprint import fingerprint

if TYPE_CHECKING:
    from monitor.app.pipeline import PipelineContext

log = structlog.get_logger(__name__)


async def contained_entry(
    context: PipelineContext, feed: Feed, feed_title: str, entry: FeedEntry
) -> tuple[int, int, int] | None:
    """``process_entry``, with its failure logged (URL and reason) and counted instead of
    raised: one poisoned entry never fails its feed or its siblings. None when it failed."""
    try:
        return await process_entry(context, feed, feed_title, entry)
    except Exception as error:  # the stage boundary: any failure is contained
        log.warning(
            "entry failed; it is tried again at the next check",
            article_url=entry.url,
            error=f"{type(error).__name__}: {error}",
            exc_info=not isinstance(error, (ValueError, LookupError)),
        )
        context.metrics.entry_failures.labels("entry").inc()
        return None


async def process_entry(
    context: PipelineContext, feed: Feed, feed_title: str, entry: FeedEntry
) -> tuple[int, int, int]:
    """Take one entry through the article stages; returns (new articles, matches, alerts)."""
    lead = entry.summary or entry.content
    candidates = [
        topic for topic in context.topics if match_topic(topic, entry.title, lead).matched
    ]
    if not candidates:
        return 0, 0, 0
    canonical = canonical_url(entry.url)
    if await context.store.is_known(feed.id, entry.guid, canonical):
        return 0, 0, 0
    with structlog.contextvars.bound_contextvars(article_url=entry.url):
        page = await read_article(context, feed, entry.url)
    text = page.text if page is not None else entry.content or entry.summary
    # The feed's own lead stays part of the evidence: a page that extracts badly must not lose
    # a story the prefilter already recognised, but its full text can add terms or veto.
    evidence = f"{lead}\n{text}" if lead and lead not in text else text
    title = entry.title or (page.title if page else "") or entry.url
    matches = tuple(m for topic in candidates if (m := match_topic(topic, title, evidence)).matched)
    matched_topics = [topic for topic in candidates if any(m.topic == topic.name for m in matches)]

    def relevance(sentence: str) -> float:
        return sum(topic.relevance(sentence) for topic in matched_topics)

    stories = context.settings.stories
    article = NewArticle(
        feed_id=feed.id,
        guid=entry.guid,
        url=entry.url,
        canonical_url=canonical,
        title=title,
        summary=summarise(text, relevance) or entry.summary,
        text=text,
        published_at=entry.published_at or (page.published_at if page else None),
        language=page.language if page else None,
        matches=matches,
        fingerprint=fingerprint(
            title,
            text,
            lead=entry.summary,
            lead_words=stories.lead_words,
            at=entry.published_at or (page.published_at if page else None),
        ),
        source_title=feed_title,
    )
    alerts = await context.articles.save(article)
    if alerts is None:
        return 0, 0, 0  # another feed stored the same story a moment ago
    if matches:
        log.info(
            "article matched",
            article_url=entry.url,
            topics=[m.topic for m in matches],
            score=max(m.score for m in matches),
            alerts=alerts,
        )
    return 1, len(matches), alerts


async def read_article(context: PipelineContext, feed: Feed, url: str) -> ExtractedPage | None:
    """Fetch and extract an article page; None (and a warning) when the page cannot be used.

    A refused link is counted against the feed that carried it.
    """
    try:
        async with context.fetch_slots.hold(url):
            fetched = await fetch(context.http, url, context.settings.fetch, accept=PAGE_ACCEPT)
        return extract_page(decode_page(fetched.body, fetched.charset), fetched.url)
    except FetchRefusedError as error:
        log.warning("article fetch refused; using the feed's text", reason=str(error))
        await context.store.count_refusal(feed.id)
        return None
    except (FetchError, ExtractionError) as error:
        log.warning("article page unusable; using the feed's text", error=str(error))
        return None
    except Exception as error:  # a page no stage foresaw: the feed's text is used
        log.warning(
            "article page unusable; using the feed's text",
            error=f"{type(error).__name__}: {error}",
            exc_info=True,
        )
        context.metrics.entry_failures.labels("article").inc()
        return None
