"""Real local HTTP servers for tests: a site serving feeds and pages, and a webhook receiver."""

from __future__ import annotations

import asyncio
import json
import socket
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from email.utils import format_datetime
from typing import Any
from xml.sax.saxutils import escape

from aiohttp import web
from aiohttp.abc import AbstractResolver, ResolveResult
from aiohttp.test_utils import TestServer

Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]


class Site:
    """Serves canned responses at paths and records every request it gets."""

    def __init__(self, host: str = "127.0.0.1") -> None:
        self.app = web.Application()
        self.app.router.add_route("*", "/{path:.*}", self._dispatch)
        self.handlers: dict[str, Handler] = {}
        self.requests: list[web.Request] = []
        self.server = TestServer(self.app, host=host)

    async def start(self) -> Site:
        await self.server.start_server()
        return self

    async def close(self) -> None:
        await self.server.close()

    def url(self, path: str) -> str:
        return str(self.server.make_url(path))

    def serve(
        self,
        path: str,
        body: bytes | str,
        *,
        status: int = 200,
        content_type: str = "application/rss+xml; charset=utf-8",
        headers: dict[str, str] | None = None,
    ) -> str:
        """Serve ``body`` at ``path``; returns the full URL."""
        data = body.encode() if isinstance(body, str) else body

        async def handler(_request: web.Request) -> web.Response:
            response = web.Response(body=data, status=status, headers=headers or {})
            response.headers["Content-Type"] = content_type
            return response

        return self.handle(path, handler)

    def handle(self, path: str, handler: Handler) -> str:
        self.handlers[path] = handler
        return self.url(path)

    def hits(self, path: str) -> int:
        return sum(1 for request in self.requests if request.path == path)

    async def _dispatch(self, request: web.Request) -> web.StreamResponse:
        self.requests.append(request)
        handler = self.handlers.get(request.path)
        if handler is None:
            raise web.HTTPNotFound()
        return await handler(request)


class ScriptedResolver(AbstractResolver):
    """A DNS server under the test's control: each lookup gets the next answer in turn (the
    last one repeats), so a test can play a name that changes its address between lookups."""

    def __init__(self, *answers: Sequence[str]) -> None:
        self.answers = [list(answer) for answer in answers]
        self.lookups: list[str] = []

    async def resolve(
        self, host: str, port: int = 0, family: socket.AddressFamily = socket.AF_INET
    ) -> list[ResolveResult]:
        self.lookups.append(host)
        addresses = self.answers.pop(0) if len(self.answers) > 1 else self.answers[0]
        return [
            {
                "hostname": host,
                "host": address,
                "port": port,
                "family": socket.AF_INET6 if ":" in address else socket.AF_INET,
                "proto": 0,
                "flags": socket.AI_NUMERICHOST,
            }
            for address in addresses
        ]

    async def close(self) -> None:
        return None


@dataclass
class Delivery:
    """One POST the receiver got."""

    headers: dict[str, str]
    body: bytes

    @property
    def payload(self) -> Any:
        return json.loads(self.body)


@dataclass
class Receiver:
    """A webhook receiver: answers with ``statuses`` in turn (then 200) and records deliveries."""

    statuses: list[int] = field(default_factory=list)
    delay_seconds: float = 0.0  # how long it takes to answer
    deliveries: list[Delivery] = field(default_factory=list)
    server: TestServer | None = None
    _arrived: asyncio.Event = field(default_factory=asyncio.Event)

    host: str = "127.0.0.1"

    async def start(self) -> Receiver:
        app = web.Application()
        app.router.add_post("/hook", self._receive)
        self.server = TestServer(app, host=self.host)
        await self.server.start_server()
        return self

    async def close(self) -> None:
        if self.server is not None:
            await self.server.close()

    @property
    def url(self) -> str:
        assert self.server is not None
        return str(self.server.make_url("/hook"))

    async def _receive(self, request: web.Request) -> web.Response:
        body = await request.read()
        await asyncio.sleep(self.delay_seconds)
        self.deliveries.append(Delivery(dict(request.headers), body))
        self._arrived.set()
        status = self.statuses.pop(0) if self.statuses else 200
        return web.Response(status=status, text="ok" if status < 300 else "no")

    async def wait_for(self, count: int, seconds: float = 10) -> None:
        """Wait until ``count`` deliveries have arrived."""
        async with asyncio.timeout(seconds):
            while len(self.deliveries) < count:
                self._arrived.clear()
                await self._arrived.wait()


@dataclass(frozen=True)
class Item:
    """An RSS item for ``rss()``."""

    title: str
    link: str
    description: str = ""
    guid: str | None = None
    published: datetime | None = None


def rss(items: Sequence[Item], title: str = "Test feed", channel_extra: str = "") -> str:
    """A small RSS 2.0 document; ``channel_extra`` is raw XML for the channel (e.g. ``<ttl>``)."""
    parts = [
        f"<?xml version='1.0' encoding='utf-8'?>\n<rss version='2.0'><channel>"
        f"<title>{escape(title)}</title><link>https://news.example/</link>"
        f"<description>test</description>{channel_extra}"
    ]
    for item in items:
        parts.append("<item>")
        parts.append(f"<title>{escape(item.title)}</title><link>{escape(item.link)}</link>")
        parts.append(f"<description>{escape(item.description)}</description>")
        parts.append(f"<guid isPermaLink='false'>{escape(item.guid or item.link)}</guid>")
        if item.published is not None:
            parts.append(f"<pubDate>{format_datetime(item.published)}</pubDate>")
        parts.append("</item>")
    parts.append("</channel></rss>")
    return "".join(parts)
