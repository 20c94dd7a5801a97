"""The worker's transactions, run on a thread of their own with their own connections.

Why a thread: the worker is CPU-bound on one core while PostgreSQL works on another.
Written from the worker's event loop, a batch's transaction advances only when processing
pauses, so the two never overlap. On this thread's loop the transaction of one batch goes
on (waiting on the socket releases the GIL) while the next batch is processed.
"""
from __future__ import annotations

import asyncio
import threading
from collections.abc import Awaitable, Callable

import asyncpg

from tracker.db.pool import create_writer_pool


class BackgroundWriter:
    def __init__(self, dsn: str) -> None:
        self._dsn = dsn
        self._loop = asyncio.new_event_loop()
        self._thread = threading.Thread(target=self._loop.run_forever, name="hazmat-writer", daemon=True)
        self._pool: asyncpg.Pool | None = None

    async def start(self) -> None:
        self._thread.start()
        self._pool = await self._on_thread(create_writer_pool(self._dsn))

    def run(self, transaction: Callable[[asyncpg.Pool], Awaitable[None]]) -> asyncio.Future:
        """Start `transaction(pool)` on the writer's thread; the future settles when it has."""
        return self._on_thread(transaction(self._pool))

    async def close(self) -> None:
        if self._thread.is_alive():
            if self._pool is not None:
                await self._on_thread(self._pool.close())
            self._loop.call_soon_threadsafe(self._loop.stop)
            await asyncio.to_thread(self._thread.join)
        self._loop.close()

    def _on_thread(self, coroutine) -> asyncio.Future:
        return asyncio.wrap_future(asyncio.run_coroutine_threadsafe(coroutine, self._loop))
