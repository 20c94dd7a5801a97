"""A JT/T 808 gateway on a free port of 127.0.0.1, on the test's topics and database."""
from __future__ import annotations

from dataclasses import replace

from streams.kafka import Publisher
from tracker.db.pool import create_pool
from tracker.jt808.server import Gateway
from tracker.serve import create_topics


async def start_gateway(settings, **limits):
    """(gateway, stop): `limits` override Jt808Limits fields (idle_s=1, ...)."""
    own = settings.with_(jt808_host="127.0.0.1", jt808_port=0, jt808=replace(settings.jt808, **limits))
    await create_topics(own)
    pool = await create_pool(own.asyncpg_dsn, max_size=4)
    publisher = Publisher(own.kafka_bootstrap, timeout_s=own.broker_timeout_s)
    gateway = Gateway(own, pool, publisher)
    await gateway.start()

    async def stop():
        await gateway.stop()
        await publisher.close()
        await pool.close()

    return gateway, stop
