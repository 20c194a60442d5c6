"""A console to test against: a database filled by a real ``monitor once`` over three local
outlets carrying one story (one alert, delivered), served by the daemon's real aiohttp app."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from aiohttp.test_utils import TestServer

from monitor.app.http_server import Liveness, ServerParts, build_app
from monitor.app.metrics import Metrics
from monitor.app.once import run_once
from monitor.app.resources import open_store
from monitor.settings import Settings, load_settings
from tests.conftest import write_config
from tests.test_stories_pipeline import serve_outlets
from tests.web import Receiver, Site

TOKEN = "test-token-0123456789abcdef"


@dataclass
class Console:
    server: TestServer
    settings: Settings
    feeds: list[str]

    def url(self, path: str) -> str:
        return str(self.server.make_url(path))


def console_settings(
    tmp_path: Path,
    database_url: str,
    feeds: list[str],
    receiver_url: str | None,
    http: dict[str, Any] | None = None,
) -> Settings:
    config = write_config(
        tmp_path / "monitor.toml",
        database_url=database_url,
        feeds=feeds,
        webhook_url=receiver_url,
        sections={"http": {"token": TOKEN, **(http or {})}},
    )
    return load_settings(config)


@asynccontextmanager
async def serving(settings: Settings, host: str = "127.0.0.1") -> AsyncIterator[TestServer]:
    """The daemon's HTTP app (health, console, API, feeds) on the store of ``settings``."""
    async with open_store(settings) as store:
        parts = ServerParts(
            store=store,
            metrics=Metrics(),
            liveness=Liveness(),
            clock=lambda: datetime.now(UTC),
            stale_after=timedelta(minutes=1),
            settings=settings,
        )
        server = TestServer(build_app(parts), host=host)
        await server.start_server()
        try:
            yield server
        finally:
            await server.close()


async def filled(
    site: Site, receiver: Receiver, tmp_path: Path, database_url: str, **http: Any
) -> Settings:
    """Settings whose database holds the three outlets' story, checked once."""
    settings = console_settings(tmp_path, database_url, serve_outlets(site), receiver.url, http)
    report = await run_once(settings)
    assert report.delivery.sent == 1, report.line()
    return settings
