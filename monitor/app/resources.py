"""Open and close what the pipeline needs: the engine, the store, the HTTP client."""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from datetime import UTC, datetime

from sqlalchemy.exc import SQLAlchemyError

from monitor.app.pipeline import PipelineContext
from monitor.deliver.webhook import configured_endpoints, open_webhook_session
from monitor.fetch.http import open_http_session
from monitor.fetch.slots import FetchSlots
from monitor.service.feedback import compile_topics_from
from monitor.settings import Settings
from monitor.store.engine import DatabaseError, open_engine, upgrade_schema
from monitor.store.facade import Store


def utc_now() -> datetime:
    return datetime.now(UTC)


@asynccontextmanager
async def open_store(settings: Settings, *, migrate: bool = True) -> AsyncIterator[Store]:
    """The store on the configured database, migrated to the current schema."""
    engine = open_engine(settings.database_url)
    try:
        if migrate:
            await upgrade_schema(engine)
        yield Store(engine)
    except (SQLAlchemyError, OSError) as error:
        raise DatabaseError(f"database {engine.url!r} failed: {error}") from error
    finally:
        await engine.dispose()


@asynccontextmanager
async def open_pipeline(
    settings: Settings, clock: Callable[[], datetime] = utc_now
) -> AsyncIterator[PipelineContext]:
    """The store, the HTTP client and the compiled topics (with the operator's stored feedback);
    config feeds synced into the store."""
    endpoints = configured_endpoints(settings.all_webhooks())
    async with open_store(settings) as store:
        await store.sync_config_feeds([(f.url, f.name) for f in settings.feeds], clock())
        await store.ensure_endpoints([endpoint.name for endpoint in endpoints])
        async with (
            open_http_session(settings.fetch) as http,
            open_webhook_session(settings.fetch.user_agent) as webhooks,
        ):
            yield PipelineContext(
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
            )
