"""A vehicle whose terminal reappears far away, across a worker restart: one gps_jump, then
the worker follows it there, and its stored track holds every fix.

Before, every fix after the jump was a gps_jump of its own and none was stored."""
from __future__ import annotations

import time

import pytest

from tests.scenario import fix_at, plates, publish_in_chunks, register_carrier, windows_elsewhere
from tests.topic import read_topic
from tests.waiting import until
from streams.times import epoch_ms
from tracker.db.pool import create_pool
from tracker.serve import create_topics, worker_running

pytestmark = pytest.mark.integration


async def test_a_confirmed_jump_moves_the_vehicle_and_survives_a_restart(own_database, topics):
    settings = own_database.with_(rules=windows_elsewhere(int(time.time() * 1000)))  # its gps_jump alone, at any hour
    await create_topics(settings)
    carrier, (plate,) = plates(1)
    await register_carrier(settings.database_url, carrier)
    t0 = int(time.time() * 1000) - 5 * 60_000
    before = [fix_at(plate, carrier, t0 + k * 10_000, k * 110, speed=40.0) for k in range(10)]  # 40 km/h
    jump = fix_at(plate, carrier, t0 + 100_000, 30_000, speed=40.0)  # 29 km in 10 s
    after = [fix_at(plate, carrier, t0 + 110_000 + k * 10_000, 30_110 + k * 110, speed=40.0) for k in range(3)]
    pool = await create_pool(settings.asyncpg_dsn)

    async def jump_seen() -> bool:
        return await pool.fetchval("SELECT count(*) FROM violations WHERE plate = $1", plate) == 1

    async def stored() -> int:
        return await pool.fetchval("SELECT count(*) FROM positions WHERE plate = $1", plate)

    async def all_stored() -> bool:
        return await stored() == len(before) + 1 + len(after)

    try:
        async with worker_running(settings):
            await publish_in_chunks(settings.kafka_bootstrap, topics.fixes, [*before, jump], 1, 0.0)
            await until(jump_seen, 60, "the jump seen")
        assert await stored() == len(before)  # the jumping fix is kept out, for now
        kept = await pool.fetchval("SELECT state->'jump'->'unconfirmed'->>'ts' FROM vehicle_state WHERE plate = $1", plate)
        assert int(kept) == jump["ts"]
        async with worker_running(settings):  # the new worker loads the state from PostGIS
            await publish_in_chunks(settings.kafka_bootstrap, topics.fixes, after, 1, 0.0)
            await until(all_stored, 60, "the new position followed")
        times = [epoch_ms(r["ts"]) for r in await pool.fetch(
            "SELECT ts FROM positions WHERE plate = $1 ORDER BY ts", plate)]
        assert times == [f["ts"] for f in [*before, jump, *after]]
        assert await pool.fetchval("SELECT count(*) FROM violations WHERE plate = $1", plate) == 1
        events = await read_topic(settings.kafka_bootstrap, topics.violations, 2, timeout_s=10)
        assert [(e["type"], e["data"]["kind"]) for _, e in events] == [
            ("hazmat.violation.opened", "gps_jump"), ("hazmat.violation.closed", "gps_jump")]
    finally:
        await pool.close()
