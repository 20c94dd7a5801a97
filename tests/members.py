"""A consumer-group member (fix worker, dead-letter store...) run in the test's own event
loop on the test's topics, with a pool and a producer of its own, stopped at the end."""
from __future__ import annotations

import asyncio
from contextlib import asynccontextmanager

from streams.kafka import Publisher
from tracker.db.pool import create_pool
from tracker.serve import create_topics
from tracker.settings import Settings


@asynccontextmanager
async def member_running(cls, settings: Settings):
    await create_topics(settings)
    pool = await create_pool(settings.asyncpg_dsn)
    publisher = Publisher(settings.kafka_bootstrap)
    member = cls(settings.with_(worker_group=f"g-{settings.topic_prefix}"), pool, publisher)
    stop = asyncio.Event()
    task = asyncio.create_task(member.run(stop))
    try:
        yield member
    finally:
        stop.set()
        await asyncio.wait_for(task, 30)
        await publisher.close()
        await pool.close()
