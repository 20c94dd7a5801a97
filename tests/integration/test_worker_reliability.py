"""Workers that die, restart, or lose the database: every violation that happened is
emitted (possibly twice, with the same id), none that did not, and no position is lost
or stored twice."""
from __future__ import annotations

import asyncio
import os
import signal
import subprocess
import sys
import time

import orjson
import pytest

from streams.kafka import Publisher
from tests import stack
from tests.contracts import validate
from tests.scenario import (expected_event_ids, fleet_fixes, plates, publish_in_chunks, register_carrier,
                            windows_elsewhere, windows_env)
from tests.topic import read_topic
from tests.waiting import until
from tracker.db import migrate
from tracker.db.pool import create_pool
from tracker.serve import create_topics, prepare, worker_running

pytestmark = pytest.mark.integration
VEHICLES = 24


def start_worker(settings, log) -> subprocess.Popen:
    """`hazmat worker` with the test's settings, its rules' night windows among them."""
    windows = windows_env(settings.rules)
    env = dict(os.environ, HAZMAT_DATABASE_URL=settings.database_url, HAZMAT_KAFKA_BOOTSTRAP=settings.kafka_bootstrap,
               HAZMAT_TOPIC_PREFIX=settings.topic_prefix, HAZMAT_TOPIC_PARTITIONS=str(settings.topic_partitions),
               HAZMAT_WORKER_GROUP=settings.worker_group, HAZMAT_METRICS_PORT="0", **windows)
    return subprocess.Popen([sys.executable, "-m", "tracker.cli", "worker"], env=env, stdout=log, stderr=log)


async def check_outcome(settings, topics, pool, fixes, expected: set[str]) -> None:
    plate_list = sorted({f["plate"] for f in fixes})

    async def all_stored():
        stored = await pool.fetchval("SELECT count(*) FROM violations WHERE plate = ANY($1::text[]) AND "
                                     "status = 'closed'", plate_list)
        positions = await pool.fetchval("SELECT count(*) FROM positions WHERE plate = ANY($1::text[])", plate_list)
        return stored == len(expected) // 2 and positions >= len(fixes)

    try:
        await until(all_stored, 90, "every violation stored and closed")
    except AssertionError:
        rows = await pool.fetch("SELECT kind, status, count(*) FROM violations GROUP BY 1, 2")
        offsets = await pool.fetch("SELECT partition, next_offset FROM consumer_offsets WHERE group_id = $1",
                                   settings.worker_group)
        positions = await pool.fetchval("SELECT count(*) FROM positions WHERE plate = ANY($1::text[])", plate_list)
        extra = [tuple(r) for r in await pool.fetch("SELECT (SELECT count(*) FROM positions), (SELECT count(*) FROM "
                                                    "vehicle_state), (SELECT count(*) FROM outbox)")]
        raise AssertionError(f"{extra} violations {[tuple(r) for r in rows]}, offsets {[tuple(r) for r in offsets]}, "
                             f"positions {positions} of {len(fixes)}") from None
    events = await read_topic(settings.kafka_bootstrap, topics.violations, len(expected), timeout_s=60)
    ids = {e["id"] for _, e in events}
    extra = [(e["data"]["kind"], e["subject"], e["data"]["started_at"], e["data"]["details"]) for _, e in events
             if e["id"] not in expected]
    assert ids == expected, f"missing {expected - ids}, extra {extra}"  # nothing that did not happen
    await asyncio.sleep(2)  # a replay storing a batch twice would show now
    positions = await pool.fetchval("SELECT count(*) FROM positions WHERE plate = ANY($1::text[])", plate_list)
    assert positions == len(fixes)  # a replayed batch was never half-committed


async def test_two_workers_one_killed_mid_stream_and_restarted(own_database, topics, tmp_path):
    settings = own_database.with_(rules=windows_elsewhere(int(time.time() * 1000)))  # (at any hour)
    await create_topics(settings)
    carrier, plate_list = plates(VEHICLES)
    await register_carrier(settings.database_url, carrier)
    fixes = fleet_fixes(plate_list, carrier)
    expected = expected_event_ids(fixes, settings.rules)
    assert len(expected) == 2 * VEHICLES  # one speeding episode each, opened and closed
    pool = await create_pool(settings.asyncpg_dsn)
    log = open(tmp_path / "workers.log", "ab")
    first, second = start_worker(settings, log), start_worker(settings, log)
    restarted = None
    try:
        async def progress():
            return await pool.fetchval("SELECT count(*) FROM consumer_offsets WHERE group_id = $1",
                                       settings.worker_group)

        async def kill_midway(chunk: int) -> None:
            nonlocal restarted
            if chunk == 3:
                await until(progress, 60, "workers committing")
                first.send_signal(signal.SIGKILL)
                first.wait()
            if chunk == 6:
                restarted = start_worker(settings, log)

        await publish_in_chunks(settings.kafka_bootstrap, topics.fixes, fixes, 10, 1.0, kill_midway)
        await check_outcome(settings, topics, pool, fixes, expected)
    except AssertionError:
        log.flush()
        print((tmp_path / "workers.log").read_text()[-6000:])
        raise
    finally:
        for process in (first, second, restarted):
            if process is not None and process.poll() is None:
                process.terminate()
                process.wait(20)
        log.close()
        await pool.close()
    assert first.returncode == -signal.SIGKILL


async def test_database_outage_stops_commits_and_loses_nothing(broker, topics, settings):
    with stack.cluster_dir() as data:
        cluster = stack.EmbeddedPostgres.start(data)
        try:
            await _outage(cluster, broker, topics, settings)
        finally:
            cluster.stop()


async def _outage(cluster, broker, topics, base_settings) -> None:
    url = cluster.url
    await migrate.upgrade(url.replace("postgresql://", "postgresql+asyncpg://", 1))
    settings = base_settings.with_(database_url=url, topic_partitions=2, worker_group="outage")
    await create_topics(settings)
    carrier, plate_list = plates(8)
    await register_carrier(url, carrier)
    fixes = fleet_fixes(plate_list, carrier)
    expected = expected_event_ids(fixes)
    async with worker_running(settings) as task:
        async def outage(chunk: int) -> None:
            if chunk == 2:
                await asyncio.to_thread(cluster.stop)
            if chunk == 5:
                assert not task.done(), "the worker must survive the outage"
                await asyncio.to_thread(cluster.restart)

        await publish_in_chunks(settings.kafka_bootstrap, topics.fixes, fixes, 8, 1.0, outage)
        pool = await create_pool(settings.asyncpg_dsn)
        try:
            await check_outcome(settings, topics, pool, fixes, expected)
        finally:
            await pool.close()


async def test_a_new_embedded_broker_is_read_from_the_start(own_database, topics):
    """`hazmat up` keeps PostGIS between runs but its broker is in memory: the offsets
    stored by the last run must not make the worker skip the new topic's records."""
    settings = own_database.with_(topic_partitions=2)
    await create_topics(settings)
    carrier, plate_list = plates(4)
    await register_carrier(settings.database_url, carrier)
    fixes = fleet_fixes(plate_list, carrier)
    pool = await create_pool(settings.asyncpg_dsn)
    try:
        await pool.executemany(
            "INSERT INTO consumer_offsets (group_id, topic, partition, next_offset) VALUES ($1, $2, $3, 100000)",
            [(settings.worker_group, topics.fixes, p) for p in range(2)])
        await prepare(settings, new_broker=True)  # what `hazmat up` does when it starts the broker
        async with worker_running(settings):
            await publish_in_chunks(settings.kafka_bootstrap, topics.fixes, fixes, 2, 0.5)
            await check_outcome(settings, topics, pool, fixes, expected_event_ids(fixes))
    finally:
        await pool.close()


async def test_messages_off_contract_are_dead_lettered_and_the_worker_goes_on(own_database, topics):
    """A foreign producer on the fixes topic: garbage and fixes that break the topic's schema
    are explained on the dead-letter topic; the valid fixes around them are processed."""
    settings = own_database.with_(topic_partitions=1)
    await create_topics(settings)
    carrier, (plate,) = plates(1)
    good = fleet_fixes([plate], carrier)[:2]
    bad = [b"not json", orjson.dumps(dict(good[0], ts=good[0]["ts"] + 1, lat="29.8")),
           orjson.dumps({k: v for k, v in good[0].items() if k != "heading_deg"}), orjson.dumps([good[0]])]
    publisher = Publisher(settings.kafka_bootstrap)
    try:
        await publisher.publish(topics.fixes, [(plate.encode(), orjson.dumps(good[0]))] + [(plate.encode(), b) for b in bad]
                                + [(plate.encode(), orjson.dumps(good[1]))])
    finally:
        await publisher.close()
    pool = await create_pool(settings.asyncpg_dsn)
    try:
        async with worker_running(settings):
            dead = await read_topic(settings.kafka_bootstrap, topics.deadletter, len(bad))

            async def both_stored():
                return await pool.fetchval("SELECT count(*) FROM positions WHERE plate = $1", plate) == 2

            await until(both_stored, 30, "the valid fixes stored")
        for _, record in dead:
            validate("deadletter.schema.json", record)
            assert record["error"].startswith("not a normalised fix: ") and record["source"] == settings.worker_group
        assert [record["input"] for _, record in dead] == [b.decode() for b in bad]
        assert "lat" in dead[1][1]["error"] and "heading_deg" in dead[2][1]["error"]
    finally:
        await pool.close()
