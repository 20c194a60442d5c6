"""The daemon's HTTP server: ``/healthz``, ``/readyz`` and ``/metrics``, and (given the
settings) the console, the API and the Atom feeds of ``monitor.app.web``.

``/healthz`` answers while the process runs (for a restart policy); ``/readyz`` answers 200 only
when the database responds, the scheduler runs and a poll tick finished recently (for a load
balancer or an orchestrator's readiness check), 503 with the failing checks otherwise.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta

import structlog
from aiohttp import web

from monitor.app.metrics import CONTENT_TYPE, Metrics
from monitor.settings import Settings
from monitor.store.facade import Store

log = structlog.get_logger(__name__)

DATABASE_TIMEOUT_SECONDS = 3.0


@dataclass
class Liveness:
    """What the daemon tells the server about itself."""

    scheduler_running: bool = False
    last_poll_at: datetime | None = None


@dataclass(frozen=True, slots=True)
class ServerParts:
    store: Store
    metrics: Metrics
    liveness: Liveness
    clock: Callable[[], datetime]
    stale_after: timedelta  # a poll tick older than this makes the daemon not ready
    settings: Settings | None = None  # None: only the three health and metrics endpoints


def build_app(parts: ServerParts) -> web.Application:
    """The aiohttp application serving the three endpoints, and the console when the
    settings are given and ``[http] console`` is on."""
    app = web.Application(client_max_size=8 * 1024 * 1024)  # an OPML upload

    async def healthz(_request: web.Request) -> web.Response:
        return web.json_response({"status": "ok"})

    async def readyz(_request: web.Request) -> web.Response:
        checks = await readiness(parts)
        ready = all(ok for ok, _ in checks.values())
        body = {
            "status": "ready" if ready else "not ready",
            "checks": {name: detail for name, (_, detail) in checks.items()},
        }
        return web.json_response(body, status=200 if ready else 503)

    async def metrics(_request: web.Request) -> web.Response:
        try:
            async with asyncio.timeout(DATABASE_TIMEOUT_SECONDS):
                parts.metrics.show(await parts.store.snapshot(parts.clock()))
        except Exception as error:  # noqa: BLE001  (the process metrics still have value)
            log.warning("metrics: the database did not answer", error=str(error))
        return web.Response(body=parts.metrics.render(), headers={"Content-Type": CONTENT_TYPE})

    app.router.add_get("/healthz", healthz)
    app.router.add_get("/readyz", readyz)
    app.router.add_get("/metrics", metrics)
    if parts.settings is not None and parts.settings.http.console:
        from monitor.app.web.mount import mount_console
        from monitor.service.context import Services

        mount_console(app, Services.over(parts.store, parts.settings, parts.clock))
    return app


async def readiness(parts: ServerParts) -> dict[str, tuple[bool, str]]:
    """Each check's verdict and a word on it."""
    checks: dict[str, tuple[bool, str]] = {}
    try:
        async with asyncio.timeout(DATABASE_TIMEOUT_SECONDS):
            await parts.store.ping()
        checks["database"] = (True, "ok")
    except Exception as error:  # noqa: BLE001  (any failure means not ready)
        # The answer names the failed check only: whoever can reach /readyz must not read the
        # database's error text. The log has it, redacted.
        log.warning(
            "readiness: the database did not answer", error=f"{type(error).__name__}: {error}"
        )
        checks["database"] = (False, "not answering")
    running = parts.liveness.scheduler_running
    checks["scheduler"] = (running, "running" if running else "stopped")
    last = parts.liveness.last_poll_at
    if last is None:
        checks["poll"] = (False, "no poll tick has finished yet")
    else:
        age = parts.clock() - last
        fresh = age <= parts.stale_after
        checks["poll"] = (fresh, f"last tick {age.total_seconds():.0f} s ago")
    return checks


async def start_server(app: web.Application, host: str, port: int) -> tuple[web.AppRunner, int]:
    """Serve ``app``; returns the runner (to clean up) and the port (useful when ``port`` is 0)."""
    runner = web.AppRunner(app, access_log=None)
    await runner.setup()
    site = web.TCPSite(runner, host, port)
    await site.start()
    server = site._server  # aiohttp keeps the listening sockets here; public API has no getter
    sockets = getattr(server, "sockets", None) or []
    bound = sockets[0].getsockname()[1] if sockets else port
    return runner, int(bound)
