"""Blind-area back-fill: fixes that arrive after newer ones still produce the events the
whole track in event-time order gives, and nothing else."""
from __future__ import annotations

import asyncio
import time

import pytest

import tracker.consuming
from tests.scenario import expected_event_ids, plates, publish_in_chunks, register_carrier
from tests.topic import read_topic
from tests.waiting import until
from tracker.db.pool import create_pool
from tracker.serve import create_topics, worker_running

pytestmark = pytest.mark.integration
M_LON = 1 / 96_400


def fix(plate: str, carrier: str, t: int, t0: int, speed: float) -> dict:
    east = (t - t0) / 60_000 * 833.3  # the vehicle's position along its road at 50 km/h
    return {"plate": plate, "ts": t, "lat": 29.8, "lon": 121.6 + east * M_LON, "speed_kmh": speed,
            "heading_deg": 90.0, "carrier_id": carrier, "received_at": t, "source": "http"}


async def test_back_filled_speeding_is_found(own_database, topics, monkeypatch):
    # small batches: checkpoints (every hour of event time) rotate within the track, and the worker never idles on it
    # (idle, its clock is wall time, and this track is older than the offline threshold)
    monkeypatch.setattr(tracker.consuming, "BATCH", 10)
    settings = own_database.with_(topic_partitions=1)
    await create_topics(settings)
    carrier, (plate,) = plates(1)
    await register_carrier(settings.database_url, carrier)
    t0 = int(time.time() * 1000) - 100 * 60_000
    live = [fix(plate, carrier, t0 + m * 60_000, t0, 50.0) for m in range(0, 91)]
    live += [fix(plate, carrier, t0 + m * 60_000, t0, 0.0) for m in range(91, 99)]
    live[-8:] = [dict(f, lon=live[90]["lon"]) for f in live[-8:]]  # parked after minute 90
    backfill = [fix(plate, carrier, t0 + 40 * 60_000 + s * 1000, t0, 75.0) for s in range(10, 120, 10) if s % 60]
    expected = expected_event_ids(sorted(live + backfill, key=lambda f: f["ts"]))
    assert len(expected) == 2  # one speeding episode, opened and closed, only in the back-fill
    pool = await create_pool(settings.asyncpg_dsn)
    try:
        async with worker_running(settings):
            await publish_in_chunks(settings.kafka_bootstrap, topics.fixes, live, 1, 0.0)

            async def caught_up():
                return await pool.fetchval("SELECT next_offset FROM consumer_offsets WHERE group_id = $1",
                                           settings.worker_group) == len(live)

            await until(caught_up, 60, "live track consumed")
            await publish_in_chunks(settings.kafka_bootstrap, topics.fixes, backfill, 1, 0.0)
            events = await read_topic(settings.kafka_bootstrap, topics.violations, 2, timeout_s=30)
            assert {e["id"] for _, e in events} == expected
            await asyncio.sleep(2)
            positions = await pool.fetchval("SELECT count(*) FROM positions WHERE plate = $1", plate)
            assert positions == len(live) + len(backfill)  # the replayed history is not stored twice
    finally:
        await pool.close()
