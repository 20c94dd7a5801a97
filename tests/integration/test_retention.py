"""Retention on real partitions: `maintain` drops the days of positions past retention and
nothing else, keeps violations of any age, creates the days ahead, prunes dead letters,
published outbox rows, old checkpoints, plate reads and finished texts to terminals; a
second run at once finds nothing to do."""
from __future__ import annotations

import asyncio
from datetime import date, datetime, timedelta, timezone

import pytest

from streams.rules.violations import open_violation
from tests import stack
from tracker.cli import main
from tracker.db import positions
from tracker.db.pool import create_pool
from tracker.db.retention import position_days
from tracker.db.violations import upsert_violations, violation_row
from tracker.maintenance import LOCK_KEY, maintain
from tracker.metrics import MAINTENANCE_PARTITIONS
from tracker.settings import Settings

pytestmark = pytest.mark.integration
TODAY = datetime.now(timezone.utc).date()


def at(day: date, hour: int = 12) -> datetime:
    return datetime(day.year, day.month, day.day, hour, tzinfo=timezone.utc)


@pytest.fixture
def retention_db(pg_server):
    with stack.fresh_database(pg_server) as url:
        yield url


async def test_old_days_go_violations_stay(retention_db):
    settings = Settings(database_url=retention_db, positions_retention_days=190)
    pool = await create_pool(settings.asyncpg_dsn)
    try:
        first = TODAY - timedelta(days=400)
        await positions.ensure_days(pool, first, TODAY - timedelta(days=185))
        old_days = [first, TODAY - timedelta(days=191), TODAY - timedelta(days=190), TODAY - timedelta(days=189)]
        await pool.executemany(
            """INSERT INTO positions (plate, ts, lat, lon, speed_kmh, heading_deg, h3_cell, source, received_at)
               VALUES ('P', $1, 29.9, 121.8, 0, 0, 1, 'http', $1)""", [(at(d),) for d in old_days])
        async with pool.acquire() as conn:
            await upsert_violations(conn, [violation_row(open_violation(
                "speeding", "P", "C", int(at(d).timestamp() * 1000), 29.9, 121.8)) for d in old_days])
        await pool.executemany("INSERT INTO deadletters (received_at, source, is_fix, error) VALUES ($1, 'x', true, 'e')",
                               [(at(TODAY - timedelta(days=191)),), (at(TODAY - timedelta(days=189)),)])
        now = datetime.now(timezone.utc)
        await pool.executemany("INSERT INTO outbox (topic, key, event_id, value, published_at) VALUES ('t', 'k', $1, '', $2)",
                               [("old-sent", now - timedelta(days=15)), ("old-unsent", None),
                                ("new-sent", now - timedelta(days=1))])
        await pool.executemany("INSERT INTO vehicle_checkpoints (plate, at, state) VALUES ('P', $1, '{}')",
                               [(now - timedelta(days=d),) for d in (30, 20, 10, 1)])
        await pool.executemany(
            """INSERT INTO plate_reads (checkpoint_id, id, plate, ts, confidence, read, received_at, checks)
               VALUES ('K', $1, 'P', $2, 0.9, '{}', $2, '{}')""",
            [("old", at(TODAY - timedelta(days=191))), ("kept", at(TODAY - timedelta(days=189)))])
        await pool.execute("INSERT INTO pending_read_checks (checkpoint_id, read_id, plate, ts) VALUES ('K', 'old', 'P', $1)",
                           at(TODAY - timedelta(days=191)))
        await pool.executemany(
            """INSERT INTO terminal_messages (phone, text, tts, urgent, state, by, created_at, expires_at)
               VALUES ('13800000000', $1, true, false, $2, 'test', $3, $3)""",
            [("old-delivered", "delivered", at(TODAY - timedelta(days=191))),
             ("old-queued", "queued", at(TODAY - timedelta(days=191))),
             ("new-expired", "expired", at(TODAY - timedelta(days=189)))])
        before = MAINTENANCE_PARTITIONS.labels("dropped")._value.get()

        done = await maintain(pool, settings, TODAY)

        days = await position_days(pool)
        oldest_kept = TODAY - timedelta(days=190)
        assert min(days) == oldest_kept and len(done.dropped) == 400 - 190
        assert done.dropped == [d for d in (first + timedelta(days=n) for n in range(210))]
        assert set(TODAY + timedelta(days=n) for n in range(8)) <= set(days)
        assert await pool.fetchval("SELECT count(*) FROM positions") == 2  # the 190th and 189th day back
        assert await pool.fetchval("SELECT count(*) FROM violations") == 4  # every one, however old
        assert await pool.fetchval("SELECT count(*) FROM deadletters") == 1
        assert {r["event_id"] for r in await pool.fetch("SELECT event_id FROM outbox")} == {"old-unsent", "new-sent"}
        # checkpoints older than the late-fix window go, but the newest of them (a replay starts there)
        assert await pool.fetchval("SELECT count(*) FROM vehicle_checkpoints") == 2
        assert (done.deadletters, done.outbox, done.checkpoints, done.failed) == (1, 1, 2, [])
        # reads and finished texts as old as the positions dropped go; a text still queued waits for its expiry
        assert [r["id"] for r in await pool.fetch("SELECT id FROM plate_reads")] == ["kept"]
        assert await pool.fetchval("SELECT count(*) FROM pending_read_checks") == 0
        assert sorted(r["text"] for r in await pool.fetch("SELECT text FROM terminal_messages")) == [
            "new-expired", "old-queued"]
        assert (done.plate_reads, done.messages) == (1, 1)
        assert MAINTENANCE_PARTITIONS.labels("dropped")._value.get() - before == 210

        again = await maintain(pool, settings, TODAY)
        assert (again.dropped, again.created, again.outbox, again.plate_reads, again.messages) == ([], 0, 0, 0, 0)

        async with pool.acquire() as holder:  # another process's run in progress
            await holder.execute("SELECT pg_advisory_lock($1)", LOCK_KEY)
            assert (await maintain(pool, settings, TODAY)).skipped
            await holder.execute("SELECT pg_advisory_unlock($1)", LOCK_KEY)
    finally:
        await pool.close()


def test_hazmat_maintain_runs_once_and_says_what_it_did(retention_db, monkeypatch, capsys):
    asyncio.run(_old_partition(retention_db))
    monkeypatch.setenv("HAZMAT_DATABASE_URL", retention_db)
    monkeypatch.setenv("HAZMAT_POSITIONS_RETENTION_DAYS", "30")
    assert main(["maintain"]) == 0
    out = capsys.readouterr().out
    assert "day partitions of positions dropped" in out and "partitions created ahead" in out


async def _old_partition(url: str) -> None:
    pool = await create_pool(url)
    try:
        await positions.ensure_days(pool, TODAY - timedelta(days=40), TODAY - timedelta(days=40))
    finally:
        await pool.close()


async def test_the_daily_task_of_hazmat_up_runs_at_start(retention_db):
    """`serve(..., maintenance=True)` (hazmat up) runs a maintenance at once: the old day goes."""
    from tracker.serve import maintenance_running

    settings = Settings(database_url=retention_db, positions_retention_days=30)
    await _old_partition(retention_db)
    pool = await create_pool(settings.asyncpg_dsn)
    try:
        old = TODAY - timedelta(days=40)
        assert old in await position_days(pool)
        async with maintenance_running(settings) as task:
            for _ in range(100):
                if old not in await position_days(pool):
                    break
                await asyncio.sleep(0.1)
            assert not task.done()  # it sleeps until tomorrow
        days = await position_days(pool)
        assert old not in days and TODAY + timedelta(days=7) in days
    finally:
        await pool.close()
