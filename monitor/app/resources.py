"""Open and close what the pipeline needs: the engine, the store, the HTTP client.

The pipeline's own modules are imported by ``open_pipeline``: a command that only reads the
store (``monitor feeds list``) opens it without loading the HTTP client, the parsers and the
topic matcher.
"""

from __future__ import annotations

import gc
from collections.abc import AsyncIterator, Callable, Iterator, Sequence
from contextlib import asynccontextmanager, contextmanager
from datetime import UTC, datetime
from typing import TYPE_CHECKING

from sqlalchemy.exc import SQLAlchemyError

from monitor.settings import Settings
from monitor.store.engine import DatabaseError, open_engine, schema_problem, upgrade_schema
from monitor.store.facade import Store
from monitor.text.redact import redact, redact_url

if TYPE_CHECKING:
    from monitor.app.pipeline import PipelineContext
    from monitor.app.saving import ArticleBatches
    from monitor.deliver.webhook import Endpoint
    from monitor.records import NewArticle


@contextmanager
def _start_up_frozen() -> Iterator[None]:
    """Leave what start-up built (modules, settings, compiled topics) out of the collector's
    passes while the pipeline is open: it lives as long as the process, and every full pass
    would walk it again (a quarter of a second a cycle with ten thousand feeds)."""
    gc.freeze()
    try:
        yield
    finally:
        gc.unfreeze()


def utc_now() -> datetime:
    return datetime.now(UTC)


@asynccontextmanager
async def open_store(
    settings: Settings, *, migrate: bool = True, require_current: bool = False
) -> AsyncIterator[Store]:
    """The store on the configured database, migrated to the current schema; with
    ``require_current`` (the commands that only read) never migrated, and refused unless its
    schema is the one this code expects."""
    engine = open_engine(settings.database_url)
    try:
        if migrate and not require_current:
            await upgrade_schema(engine)
        elif require_current and (problem := await schema_problem(engine)):
            raise DatabaseError(problem)
        yield Store(engine)
    except (SQLAlchemyError, OSError) as error:
        shown = redact_url(settings.database_url)
        raise DatabaseError(redact(f"database {shown} failed: {error}")) from error
    finally:
        await engine.dispose()


@asynccontextmanager
async def open_pipeline(
    settings: Settings, clock: Callable[[], datetime] = utc_now, *, prepare: bool = True
) -> AsyncIterator[PipelineContext]:
    """The store, the HTTP clients and the compiled topics (with the operator's stored
    feedback). With ``prepare`` (``run`` and ``once``) the schema is migrated and the config's
    feeds and endpoints are synced into the store; without it (every other command) the store is
    used as it is, and refused if its schema is not the current one: a command run with another
    config file must not disable the daemon's feeds."""
    from monitor.app.pipeline import PipelineContext
    from monitor.deliver.webhook import configured_endpoints, open_webhook_session
    from monitor.fetch.http import open_http_session
    from monitor.fetch.slots import FetchSlots
    from monitor.service.feedback import compile_topics_from

    endpoints = configured_endpoints(settings.all_webhooks())
    async with open_store(settings, require_current=not prepare) as store:
        if prepare:
            await store.sync_config_feeds([(f.url, f.name) for f in settings.feeds], clock())
            await store.ensure_endpoints([endpoint.name for endpoint in endpoints])
        async with (
            open_http_session(settings.fetch) as http,
            open_webhook_session(settings.fetch.user_agent) as webhooks,
        ):
            context = PipelineContext(
                settings=settings,
                store=store,
                http=http,
                webhooks=webhooks,
                topics=await compile_topics_from(store, settings),
                endpoints=endpoints,
                clock=clock,
                fetch_slots=FetchSlots(
                    total=settings.fetch.concurrency,
                    per_host=settings.fetch.per_host_concurrency,
                ),
                articles=article_batches(store, settings, endpoints, clock),
            )
            with _start_up_frozen():
                yield context


def article_batches(
    store: Store, settings: Settings, endpoints: Sequence[Endpoint], clock: Callable[[], datetime]
) -> ArticleBatches:
    """Matched articles saved in batches, each alerting the endpoints that take its topics."""
    from monitor.app.saving import ArticleBatches

    def recipients(topic: str) -> list[str]:
        return [endpoint.name for endpoint in endpoints if endpoint.wants(topic)]

    updates = {endpoint.name for endpoint in endpoints if endpoint.story_updates}

    async def save_many(articles: Sequence[NewArticle]) -> list[int | None]:
        return await store.save_articles(
            articles, recipients, clock(), stories=settings.stories, story_updates=updates
        )

    return ArticleBatches(save_many, most=settings.poll.save_batch)
