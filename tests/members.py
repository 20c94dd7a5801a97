"""A consumer-group member (fix worker, dead-letter store...) run in the test's own event
loop on the test's topics, with a pool and a producer of its own, stopped at the end."""
from __future__ import annotations

import asyncio
from contextlib import asynccontextmanager

from streams.kafka import Publisher
from tracker.db.pool import create_pool
from tracker.serve import create_topics
from tracker.settings import Settings
from tracker.workers.loop import PartitionedLoop
from tracker.workers.references import References


@asynccontextmanager
async def member_running(cls, settings: Settings, with_references: bool = True):
    """Yields the member (`.handler` is a `cls`). `with_references`: the member judges fixes (fix worker, filling check) and gets
    references of its own, as a process's members share theirs."""
    await create_topics(settings)
    pool = await create_pool(settings.asyncpg_dsn)
    publisher = Publisher(settings.kafka_bootstrap)
    refs = References(settings.worker.references_max_age_s, settings.asyncpg_dsn) if with_references else None
    settings = settings.with_(worker_group=f"g-{settings.topic_prefix}")
    handler = cls(settings, pool, publisher, refs) if refs is not None else cls(settings, pool, publisher)
    member = PartitionedLoop(settings, pool, publisher, handler, refs)
    stop = asyncio.Event()
    task = asyncio.create_task(member.run(stop))
    try:
        yield member
    finally:
        stop.set()
        await asyncio.wait_for(task, 30)
        if refs is not None:
            await refs.close()
        await publisher.close()
        await pool.close()
