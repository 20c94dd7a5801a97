"""The offline timers' clock: each partition's own event time while it has a backlog.

One clock for the whole worker ran ahead of the partitions it had read less of and timed
their vehicles out: a backlog of vehicles reporting every 90 s yielded `offline`."""
from __future__ import annotations

import time
from dataclasses import replace

import pytest

from streams.kafka import partition_for
from tests.scenario import expected_event_ids, fix_at, plates, publish_in_chunks, register_carrier
from tests.topic import read_topic
from tests.waiting import until
from tracker.db.pool import create_pool
from tracker.serve import create_topics, worker_running

pytestmark = pytest.mark.integration
MINUTE = 60_000


def track(plate: str, carrier: str, t0: int) -> list[dict]:
    """An hour at 50 km/h, a fix every 90 s, speeding for three of them, standing still for
    the last few minutes (so the wall clock, once the partition is live, times nothing out)."""
    out = []
    for k in range(41):
        speed = 0.0 if k >= 37 else 75.0 if 10 <= k < 13 else 50.0
        out.append(fix_at(plate, carrier, t0 + k * 90_000, min(k, 36) * 1250, speed=speed))
    return out


async def test_a_partition_read_later_keeps_its_own_clock(own_database, topics):
    """Vehicle A's hour is consumed first; then vehicle B's hour, the same hour, arrives on
    another partition as one backlog. By A's clock B has been silent for most of an hour;
    by its own partition's it never was."""
    settings = own_database.with_(topic_partitions=2, worker=replace(own_database.worker, batch=10))
    await create_topics(settings)
    carrier, candidates = plates(20)
    a = candidates[0]
    b = next(p for p in candidates if partition_for(p.encode(), [0, 1]) != partition_for(a.encode(), [0, 1]))
    await register_carrier(settings.database_url, carrier)
    t0 = int(time.time() * 1000) - 60 * MINUTE
    first, second = track(a, carrier, t0), track(b, carrier, t0)
    expected = expected_event_ids(first) | expected_event_ids(second)
    happened = {e.rsplit(".", 1)[0] for e in expected}  # violation ids: both speeding episodes
    pool = await create_pool(settings.asyncpg_dsn)

    def consumed(fixes: list[dict]):
        async def all_stored():
            return await pool.fetchval("SELECT count(*) FROM positions WHERE plate = $1", fixes[0]["plate"]) == len(fixes)
        return all_stored

    try:
        async with worker_running(settings):
            await publish_in_chunks(settings.kafka_bootstrap, topics.fixes, first, 1, 0.0)
            await until(consumed(first), 60, "vehicle A's hour consumed")
            await publish_in_chunks(settings.kafka_bootstrap, topics.fixes, second, 1, 0.0)  # one record batch
            await until(consumed(second), 60, "vehicle B's hour consumed")
            stored = await pool.fetch("SELECT violation_id, kind FROM violations WHERE plate = ANY($1)", [a, b])
            assert {r["violation_id"] for r in stored} == happened, [r["kind"] for r in stored]
            events = await read_topic(settings.kafka_bootstrap, topics.violations, len(expected), timeout_s=10)
            assert {e["id"] for _, e in events} == expected
    finally:
        await pool.close()
