"""Fetch slots: a global cap on fetches at once, and a smaller one per host (politeness).

A fetch waits for its host's slot before it takes a global one, so many feeds on one busy host
queue among themselves and never hold the slots that other hosts' feeds could use.
"""

from __future__ import annotations

import asyncio
from types import TracebackType
from urllib.parse import urlsplit


class FetchSlots:
    """At most ``total`` fetches at once, and at most ``per_host`` to any one host."""

    def __init__(self, *, total: int, per_host: int) -> None:
        self._all = asyncio.Semaphore(total)
        self._per_host = per_host
        self._hosts: dict[str, asyncio.Semaphore] = {}
        self._waiting: dict[str, int] = {}

    def hold(self, url: str) -> Slot:
        """A slot for fetching ``url``, held in ``async with`` (its redirects count against the
        same host)."""
        try:
            host = (urlsplit(url).hostname or "").lower()
        except ValueError:
            host = ""
        return Slot(self, host)

    async def acquire(self, host: str) -> None:
        """Wait for a slot of ``host``, then for a global one."""
        host_slots = self._hosts.get(host)
        if host_slots is None:
            host_slots = self._hosts[host] = asyncio.Semaphore(self._per_host)
        self._waiting[host] = self._waiting.get(host, 0) + 1
        try:
            await host_slots.acquire()
            try:
                await self._all.acquire()
            except BaseException:
                host_slots.release()
                raise
        except BaseException:
            self._forget(host)
            raise

    def release(self, host: str) -> None:
        """Give back what ``acquire(host)`` took."""
        self._all.release()
        self._hosts[host].release()
        self._forget(host)

    def _forget(self, host: str) -> None:
        self._waiting[host] -= 1
        if not self._waiting[host]:  # forget idle hosts: the table stays small
            del self._waiting[host], self._hosts[host]


class Slot:
    """One fetch's hold on its host's slot and a global one. A plain class, not an async
    generator: on a warm cycle thousands wait at once, and each generator would be registered
    with the event loop and kept track of until it finishes."""

    __slots__ = ("_host", "_slots")

    def __init__(self, slots: FetchSlots, host: str) -> None:
        self._slots = slots
        self._host = host

    async def __aenter__(self) -> None:
        await self._slots.acquire(self._host)

    async def __aexit__(
        self,
        _type: type[BaseException] | None,
        _error: BaseException | None,
        _traceback: TracebackType | None,
    ) -> None:
        self._slots.release(self._host)
