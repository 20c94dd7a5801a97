"""Running roles until Ctrl-C/SIGTERM, and the start-up steps they share."""
from __future__ import annotations

import asyncio
import signal
from collections.abc import Awaitable, Callable

from aiohttp import web

from streams.kafka import ensure_topics
from streams.topics import Topics
from tracker.api.app import create_app
from tracker.auth import bootstrap_admin
from tracker.db import migrate
from tracker.db.pool import create_pool
from tracker.settings import Settings


async def wait_for_stop_signal() -> None:
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(sig, stop.set)
    try:
        await stop.wait()
    finally:
        for sig in (signal.SIGINT, signal.SIGTERM):
            loop.remove_signal_handler(sig)


async def prepare(settings: Settings) -> str | None:
    """Migrations to head, topics created, an admin token ensured; returns a token to print."""
    await migrate.upgrade(settings.sqlalchemy_url)
    await ensure_topics(settings.kafka_bootstrap, Topics(settings.topic_prefix).all(), settings.topic_partitions)
    pool = await create_pool(settings.asyncpg_dsn, max_size=2)
    try:
        return await bootstrap_admin(pool, settings.admin_token)
    finally:
        await pool.close()


async def serve_api(settings: Settings, started: Callable[[], Awaitable[None] | None] | None = None) -> None:
    runner = web.AppRunner(create_app(settings), access_log=None)
    await runner.setup()
    try:
        await web.TCPSite(runner, settings.http_host, settings.http_port).start()
        if started is not None:
            result = started()
            if result is not None:
                await result
        await wait_for_stop_signal()
    finally:
        await runner.cleanup()
