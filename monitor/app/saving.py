"""Matched articles from concurrent feed checks, saved together: one transaction for every
article waiting while the previous one commits (a group commit), never a wait for company.

Each caller gets its own article's outcome only once the transaction that stored it has
committed, so nothing is acknowledged before it is durable. A batch that fails is saved again
one article at a time: one bad article fails only its own entry.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable, Sequence

from monitor.records import NewArticle

SaveMany = Callable[[Sequence[NewArticle]], Awaitable[list[int | None]]]
Waiting = tuple[NewArticle, "asyncio.Future[int | None]"]


class ArticleBatches:
    """Saves articles through ``save_many`` (the store's ``save_articles``), at most ``most``
    per transaction; ``save`` returns what ``save_many`` said of its article."""

    def __init__(self, save_many: SaveMany, most: int) -> None:
        self._save_many = save_many
        self._most = most
        self._waiting: list[Waiting] = []
        self._turn = asyncio.Lock()  # first come, first served: one batch at a time

    async def save(self, article: NewArticle) -> int | None:
        future: asyncio.Future[int | None] = asyncio.get_running_loop().create_future()
        self._waiting.append((article, future))
        while not future.done():
            async with self._turn:
                if not future.done():
                    batch, self._waiting = self._waiting[: self._most], self._waiting[self._most :]
                    await self._save(batch)
        return future.result()

    async def _save(self, batch: list[Waiting]) -> None:
        try:
            await self._attempt(batch)
        except asyncio.CancelledError:
            # The saver was cancelled and its transaction rolled back: the others wait again.
            self._waiting[:0] = [item for item in batch if not item[1].done()]
            raise

    async def _attempt(self, batch: list[Waiting]) -> None:
        try:
            outcomes = await self._save_many([article for article, _ in batch])
        except asyncio.CancelledError:
            raise
        except Exception as error:  # noqa: BLE001  (handed to the caller, whatever it is)
            if len(batch) == 1:
                batch[0][1].set_exception(error)
                return
            for item in batch:  # find the bad one: each alone
                await self._attempt([item])
            return
        for (_, future), outcome in zip(batch, outcomes, strict=True):
            future.set_result(outcome)
