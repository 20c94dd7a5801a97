"""Blind-area back-fill: fixes that arrive after newer ones still produce the events the
whole track in event-time order gives, and nothing else."""
from __future__ import annotations

import asyncio
import time
from dataclasses import replace

import pytest

from geofence.index import GeofenceIndex
from streams.batch import process
from streams.rules.engine import Context
from streams.rules.violations import CLOSED, event_id, revise_violation
from streams.times import epoch_ms, rfc3339
from tests.scenario import M_LON, expected_event_ids, plates, publish_in_chunks, register_carrier, windows_elsewhere
from tests.topic import read_topic
from tests.waiting import until
from tracker.db import replays
from tracker.db.batches import BatchResult, write_batch
from tracker.db.pool import create_pool
from tracker.serve import create_topics, worker_running
from tracker.settings import WorkerTuning

pytestmark = pytest.mark.integration


def fix(plate: str, carrier: str, t: int, t0: int, speed: float) -> dict:
    east = (t - t0) / 60_000 * 833.3  # the vehicle's position along its road at 50 km/h
    return {"plate": plate, "ts": t, "lat": 29.8, "lon": 121.6 + east * M_LON, "speed_kmh": speed,
            "heading_deg": 90.0, "carrier_id": carrier, "received_at": t, "source": "http"}


POLLS_OF_10 = (10, WorkerTuning().chunk)
# A back-fill's chunks each replay, and each must see the chunks before it in the track.
IN_CHUNKS = pytest.mark.parametrize("one_vehicle", [POLLS_OF_10, (40, 3)], indirect=True,
                                    ids=["polls of 10", "polls of 40 in chunks of 3"])


@pytest.fixture
async def one_vehicle(own_database, request):
    """Single-partition topics, one registered vehicle, and workers taking small batches
    (by default of 10; a test may ask for (batch, chunk)): checkpoints (every hour of event
    time) rotate within the track, and the worker never idles on it (idle, its clock is
    wall time, and these tracks are older than the offline threshold)."""
    batch, chunk = getattr(request, "param", POLLS_OF_10)
    settings = own_database.with_(topic_partitions=1, rules=windows_elsewhere(int(time.time() * 1000)),
                                  worker=replace(own_database.worker, batch=batch, chunk=chunk))
    await create_topics(settings)
    carrier, (plate,) = plates(1)
    await register_carrier(settings.database_url, carrier)
    return settings, carrier, plate


async def consumed(pool, settings, n: int) -> bool:
    """The worker has committed the first `n` fixes of the one-partition topic."""
    return await pool.fetchval("SELECT next_offset FROM consumer_offsets WHERE group_id = $1",
                               settings.worker_group) == n


@IN_CHUNKS
async def test_back_filled_speeding_is_found(one_vehicle, topics):
    settings, carrier, plate = one_vehicle
    t0 = int(time.time() * 1000) - 100 * 60_000
    live = [fix(plate, carrier, t0 + m * 60_000, t0, 50.0) for m in range(0, 91)]
    live += [fix(plate, carrier, t0 + m * 60_000, t0, 0.0) for m in range(91, 99)]
    live[-8:] = [dict(f, lon=live[90]["lon"]) for f in live[-8:]]  # parked after minute 90
    backfill = [fix(plate, carrier, t0 + 40 * 60_000 + s * 1000, t0, 75.0) for s in range(10, 120, 10) if s % 60]
    expected = expected_event_ids(sorted(live + backfill, key=lambda f: f["ts"]), settings.rules)
    assert len(expected) == 2  # one speeding episode, opened and closed, only in the back-fill
    pool = await create_pool(settings.asyncpg_dsn)
    try:
        async with worker_running(settings):
            await publish_in_chunks(settings.kafka_bootstrap, topics.fixes, live, 1, 0.0)
            await until(lambda: consumed(pool, settings, len(live)), 60, "live track consumed")
            await publish_in_chunks(settings.kafka_bootstrap, topics.fixes, backfill, 1, 0.0)
            events = await read_topic(settings.kafka_bootstrap, topics.violations, 2, timeout_s=30)
            assert {e["id"] for _, e in events} == expected
            await asyncio.sleep(2)
            positions = await pool.fetchval("SELECT count(*) FROM positions WHERE plate = $1", plate)
            assert positions == len(live) + len(backfill)  # the replayed history is not stored twice
    finally:
        await pool.close()


@IN_CHUNKS
async def test_a_back_fill_that_prolongs_a_closed_violation_revises_it(one_vehicle, topics):
    """Live, speeding from minute 40 to 43; the back-fill shows 75 km/h at 43:20 and 43:40,
    so it ended at 44:00. Consumers get the closed record again, revised, under a new id."""
    settings, carrier, plate = one_vehicle
    t0 = int(time.time() * 1000) - 100 * 60_000
    live = [fix(plate, carrier, t0 + m * 60_000, t0, 75.0 if 40 <= m <= 42 else 50.0) for m in range(0, 91)]
    live += [dict(fix(plate, carrier, t0 + m * 60_000, t0, 0.0), lon=live[90]["lon"]) for m in range(91, 99)]
    backfill = [fix(plate, carrier, t0 + 43 * 60_000 + s * 1000, t0, 75.0) for s in (20, 40)]
    whole = process(sorted([dict(f) for f in live + backfill], key=lambda f: f["ts"]), {},
                    Context(GeofenceIndex(), lambda p, ts: None, settings.rules))
    (closed,) = [v for t, v in whole.events if t == CLOSED]
    assert closed.ended_ms == t0 + 44 * 60_000
    revision = event_id(revise_violation(closed), CLOSED)
    expected = expected_event_ids(live, settings.rules) | {revision}
    pool = await create_pool(settings.asyncpg_dsn)
    try:
        async with worker_running(settings):
            await publish_in_chunks(settings.kafka_bootstrap, topics.fixes, live, 1, 0.0)
            await until(lambda: consumed(pool, settings, len(live)), 60, "live track consumed")
            await publish_in_chunks(settings.kafka_bootstrap, topics.fixes, backfill, 1, 0.0)
            events = await read_topic(settings.kafka_bootstrap, topics.violations, 3, timeout_s=30)
            assert {e["id"] for _, e in events} == expected
            revised = [e for _, e in events if e["id"] == revision][0]
            assert revised["type"] == CLOSED and revised["data"]["details"]["revised"] is True
            assert revised["data"]["ended_at"] == rfc3339(closed.ended_ms)
            row = await pool.fetchrow("SELECT ended_at, details FROM violations WHERE violation_id = $1",
                                      closed.violation_id)
            assert epoch_ms(row["ended_at"]) == t0 + 44 * 60_000 and row["details"]["revised"] is True
    finally:
        await pool.close()


async def test_hours_late_back_fill_is_replayed_and_disproved_offline_withdrawn(one_vehicle, topics):
    """A six-hour track with a 40-minute hole: the hole reads as `offline`. Then the blind-area
    upload arrives: the hole's fixes, and fixes from five hours back showing a speeding
    episode. The rules replay from checkpoints hours old; `offline` and
    `offline_displacement` are withdrawn."""
    settings, carrier, plate = one_vehicle
    t0 = int(time.time() * 1000) - 6 * 3600_000
    minute = 60_000
    live = [fix(plate, carrier, t0 + m * minute, t0, 50.0) for m in range(0, 356, 5) if not 300 < m < 340]
    hole = [fix(plate, carrier, t0 + m * minute, t0, 50.0) for m in range(305, 340, 5)]
    speeding = [fix(plate, carrier, t0 + 60 * minute + s * 1000, t0, 75.0) for s in range(10, 120, 10) if s % 60]
    live_events = expected_event_ids(live, settings.rules)
    whole = expected_event_ids(sorted(live + hole + speeding, key=lambda f: f["ts"]), settings.rules)
    offline = {e for e in live_events - whole}
    # the hole's offline, and its offline_displacement (the vehicle reappears 33 km on)
    assert len(offline) == 4 and all(".opened" in e or ".closed" in e for e in offline)
    assert len(whole - live_events) == 2  # the speeding episode, only in the back-fill
    withdrawn = {e.replace(".opened", ".withdrawn") for e in offline if e.endswith(".opened")}
    pool = await create_pool(settings.asyncpg_dsn)
    try:
        async with worker_running(settings):
            await publish_in_chunks(settings.kafka_bootstrap, topics.fixes, live, 1, 0.0)
            await until(lambda: consumed(pool, settings, len(live)), 60, "live track consumed")
            checkpoints = await pool.fetchval("SELECT count(*) FROM vehicle_checkpoints WHERE plate = $1", plate)
            assert checkpoints >= 4  # the empty state, then one every hour or more of event time
            await publish_in_chunks(settings.kafka_bootstrap, topics.fixes, hole + speeding, 1, 0.0)
            await until(lambda: consumed(pool, settings, len(live) + len(hole) + len(speeding)), 60, "back-fill consumed")
            expected = live_events | whole | withdrawn
            events = await read_topic(settings.kafka_bootstrap, topics.violations, len(expected), timeout_s=30)
            assert {e["id"] for _, e in events} == expected
            gone = [e for _, e in events if e["id"] in withdrawn][0]
            assert gone["type"] == "hazmat.violation.closed" and gone["data"]["details"]["withdrawn"] is True
            row = await pool.fetchrow("SELECT status, details FROM violations WHERE violation_id = $1",
                                      gone["data"]["violation_id"])
            assert row["status"] == "closed" and row["details"]["withdrawn"] is True
            await asyncio.sleep(2)
            sent = await pool.fetchval("SELECT count(*) FROM outbox WHERE topic = $1", topics.violations)
            assert sent == len(expected)  # nothing more: the replay repeats no event already sent
    finally:
        await pool.close()


async def test_checkpoints_outside_the_late_window_are_pruned_but_the_newest_older_one_kept(settings):
    pool = await create_pool(settings.asyncpg_dsn)
    try:
        day = 24 * 3600_000
        now = int(time.time() * 1000)
        await write_batch(pool, "prune-test", BatchResult(checkpoints=[
            ("PRUNE-1", ts, b'{"plate":"PRUNE-1"}') for ts in (0, now - 9 * day, now - 8 * day, now - 6 * day, now)]))
        await replays.prune_checkpoints(pool, now - 7 * day)
        kept = await pool.fetch("SELECT at FROM vehicle_checkpoints WHERE plate = 'PRUNE-1' ORDER BY at")
        assert [epoch_ms(r["at"]) for r in kept] == [now - 8 * day, now - 6 * day, now]
        before = await replays.checkpoints_before(pool, {"PRUNE-1": now - 7 * day})
        assert before["PRUNE-1"] == (now - 8 * day, {"plate": "PRUNE-1"})
    finally:
        await pool.close()
