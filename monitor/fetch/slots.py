"""Fetch slots: a global cap on fetches at once, and a smaller one per host (politeness).

A fetch waits for its host's slot before it takes a global one, so many feeds on one busy host
queue among themselves and never hold the slots that other hosts' feeds could use.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from urllib.parse import urlsplit


class FetchSlots:
    """At most ``total`` fetches at once, and at most ``per_host`` to any one host."""

    def __init__(self, *, total: int, per_host: int) -> None:
        self._all = asyncio.Semaphore(total)
        self._per_host = per_host
        self._hosts: dict[str, asyncio.Semaphore] = {}
        self._waiting: dict[str, int] = {}

    @asynccontextmanager
    async def hold(self, url: str) -> AsyncIterator[None]:
        """Hold a slot for fetching ``url`` (its redirects count against the same host)."""
        try:
            host = (urlsplit(url).hostname or "").lower()
        except ValueError:
            host = ""
        host_slots = self._hosts.setdefault(host, asyncio.Semaphore(self._per_host))
        self._waiting[host] = self._waiting.get(host, 0) + 1
        try:
            async with host_slots, self._all:
                yield
        finally:
            self._waiting[host] -= 1
            if not self._waiting[host]:  # forget idle hosts: the table stays small
                del self._waiting[host], self._hosts[host]
