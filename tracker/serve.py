"""Running roles until Ctrl-C/SIGTERM, and the start-up steps they share."""
from __future__ import annotations

import asyncio
import gc
import logging
import signal
from collections.abc import Awaitable, Callable
from contextlib import AsyncExitStack, asynccontextmanager

from streams.kafka import Publisher, ensure_topics
from streams.topics import Topics, retention_configs
from tracker.auth import bootstrap_admin
from tracker.db.offsets import forget_offsets
from tracker.db.pool import create_pool
from tracker.maintenance import maintain_daily
from tracker.settings import Settings
from tracker.workers.deadletters import DeadletterStore
from tracker.workers.filling import FillingWorker
from tracker.workers.fixes import Worker
from tracker.workers.loop import PartitionedLoop
from tracker.workers.references import References
from tracker.workers.reads import ReadWorker
from tracker.workers.reminders import Reminders
from tracker.worker_processes import WorkerExited, worker_processes_running

log = logging.getLogger(__name__)


# The cyclic collector at its default threshold (every 700 allocations) rescans what a
# long-lived process holds many times a second: the fix worker's geofence index and
# vehicle states (~15 % of its CPU), a gateway's 10 000 connections (35 % of its CPU a
# fix, and answers' p99 174-225 ms against 41-73 ms: bench/RESULTS.md). Cycles are still
# collected, less often.
GC_THRESHOLD = (50_000, 20, 100)


def tune_collector() -> None:
    gc.set_threshold(*GC_THRESHOLD)


async def wait_for_stop_signal() -> None:
    """Until SIGINT or SIGTERM, logged by name (a process stopped from outside says so)."""
    received: asyncio.Future[int] = asyncio.get_running_loop().create_future()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(sig, lambda sig=sig: received.done() or received.set_result(sig))
    try:
        log.info("stopping: %s", signal.Signals(await received).name)
    finally:
        for sig in (signal.SIGINT, signal.SIGTERM):
            loop.remove_signal_handler(sig)


async def create_topics(settings: Settings) -> None:
    await ensure_topics(settings.kafka_bootstrap, Topics(settings.topic_prefix).all(), settings.topic_partitions,
                        retention_configs(settings.topic_retention_hours, settings.topic_retention_mb))


async def prepare(settings: Settings, *, new_broker: bool = False) -> str | None:
    """Migrations to head, topics created, an admin token ensured; returns a token to print.

    With `new_broker` (the embedded broker keeps nothing between runs) stored consumer
    offsets belong to topics that no longer exist and are dropped."""
    from tracker.db import migrate  # (Alembic and SQLAlchemy: imported by the processes that migrate)

    await migrate.upgrade(settings.sqlalchemy_url)
    await create_topics(settings)
    pool = await create_pool(settings.asyncpg_dsn, max_size=2)
    try:
        if new_broker:
            await forget_offsets(pool)
        return await bootstrap_admin(pool, settings.admin_token)
    finally:
        await pool.close()


@asynccontextmanager
async def api_running(settings: Settings):
    from aiohttp import web  # the API's modules are imported by the processes that serve it

    from tracker.api.app import create_app
    from tracker.api.server import ApiRunner

    runner = ApiRunner(create_app(settings))
    await runner.setup()
    try:
        await web.TCPSite(runner, settings.http_host, settings.http_port).start()
        yield
    finally:
        await runner.cleanup()


@asynccontextmanager
async def worker_running(settings: Settings):
    """The fix worker, the filling cross-check, the plate-read checks, the drivers'
    reminders and the dead-letter store, sharing a pool, a producer and one set of
    references (given to the members that judge fixes); yields the future running them.
    References load while the members join."""
    pool = await create_pool(settings.asyncpg_dsn)
    publisher = Publisher(settings.kafka_bootstrap, timeout_s=settings.broker_timeout_s,
                          compression=settings.kafka_compression)
    refs = References(settings.worker.references_max_age_s, settings.asyncpg_dsn)
    refs.preload(pool)
    stop = asyncio.Event()
    handlers = [Worker(settings, pool, publisher, refs), FillingWorker(settings, pool, publisher, refs),
                ReadWorker(settings, pool, publisher, refs), Reminders(settings, pool, publisher),
                DeadletterStore(settings, pool, publisher)]
    task = asyncio.gather(*(PartitionedLoop(settings, pool, publisher, h, h.refs).run(stop) for h in handlers))
    try:
        yield task
    finally:
        stop.set()
        await asyncio.gather(task, return_exceptions=True)
        await refs.close()
        await publisher.close()
        await pool.close()


@asynccontextmanager
async def gateway_running(settings: Settings):
    """The JT/T 808 gateway with a pool and a producer of its own; yields it (its port)."""
    from tracker.jt808.server import Gateway  # the codec is imported only by processes that serve terminals

    pool = await create_pool(settings.asyncpg_dsn)
    publisher = Publisher(settings.kafka_bootstrap, timeout_s=settings.broker_timeout_s,
                          compression=settings.kafka_compression)
    gateway = Gateway(settings, pool, publisher)
    try:
        await gateway.start()
        yield gateway
    finally:
        await gateway.stop()
        await publisher.close()
        await pool.close()


@asynccontextmanager
async def jt809_running(settings: Settings):
    """The JT/T 809 server with a pool and a producer of its own; yields it (its port)."""
    from tracker.jt809.server import Server  # the codec is imported only by processes that serve platforms

    pool = await create_pool(settings.asyncpg_dsn)
    publisher = Publisher(settings.kafka_bootstrap, timeout_s=settings.broker_timeout_s)
    server = Server(settings, pool, publisher)
    try:
        await server.start()
        yield server
    finally:
        await server.stop()
        await publisher.close()
        await pool.close()


@asynccontextmanager
async def upstream_running(settings: Settings):
    """The sub-platform client toward the province (HAZMAT_JT809_UPSTREAM); yields its task."""
    from tracker.jt809.upstream import UpstreamClient

    stop = asyncio.Event()
    task = asyncio.ensure_future(UpstreamClient(settings).run(stop))
    try:
        yield task
    finally:
        stop.set()
        await asyncio.gather(task, return_exceptions=True)


async def _cancelled(task: asyncio.Future) -> None:
    task.cancel()
    await asyncio.gather(task, return_exceptions=True)


@asynccontextmanager
async def maintenance_running(settings: Settings):
    """The daily retention run (`hazmat maintain`) as a task of this process."""
    pool = await create_pool(settings.asyncpg_dsn, max_size=1)
    task = asyncio.create_task(maintain_daily(pool, settings))
    try:
        yield task
    finally:
        await _cancelled(task)
        await pool.close()


async def serve(settings: Settings, *, api: bool, worker: bool, worker_processes: int = 0, jt808: bool = False,
                jt809: bool = False, maintenance: bool = False,
                started: Callable[[], None] | None = None,
                alongside: Callable[[], Awaitable[object]] | None = None) -> None:
    """Run the roles until Ctrl-C/SIGTERM; a worker that dies takes the process down with its
    error. `worker_processes`: that many `hazmat worker` processes besides (`hazmat up`;
    one that exits takes this one down too). `maintenance`: the daily retention run too
    (`hazmat up`). `alongside` (say a simulated fleet posting to the API) starts once the
    roles are up, and stops with them; its error takes the process down too."""
    tune_collector()
    async with AsyncExitStack() as stack:
        tasks = []
        if api:
            await stack.enter_async_context(api_running(settings))
        if jt808:
            await stack.enter_async_context(gateway_running(settings))
        if jt809:
            await stack.enter_async_context(jt809_running(settings))
            if settings.jt809_upstream is not None:
                tasks.append(await stack.enter_async_context(upstream_running(settings)))
        if worker:
            tasks.append(await stack.enter_async_context(worker_running(settings)))
        if worker_processes:
            tasks.append(await stack.enter_async_context(worker_processes_running(settings, worker_processes)))
        if maintenance:
            tasks.append(await stack.enter_async_context(maintenance_running(settings)))
        if started is not None:
            started()
        if alongside is not None:
            tasks.append(asyncio.ensure_future(alongside()))
            stack.push_async_callback(_cancelled, tasks[-1])  # before the API it talks to stops
        stop = asyncio.create_task(wait_for_stop_signal())
        done, _ = await asyncio.wait([stop, *tasks], return_when=asyncio.FIRST_COMPLETED)
        stop.cancel()
        for task in done:
            if task is stop:
                continue
            if stop in done and not task.cancelled() and isinstance(task.exception(), WorkerExited):
                # (a stop sent to the whole process group reached a worker process as well)
                log.info("stopping, and so was a worker process: %s", task.exception())
                continue
            task.result()
