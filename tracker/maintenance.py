"""`hazmat maintain` and the daily task of `hazmat up`: retention and partitions ahead.

Drops the day partitions of positions older than HAZMAT_POSITIONS_RETENTION_DAYS (whole
tables: no DELETE, no bloat, no vacuum), dead letters, checkpoint cameras' reads and
finished texts to terminals as old, published outbox rows older than
HAZMAT_OUTBOX_RETENTION_DAYS and rule checkpoints no late fix can need; creates the
partitions of the days ahead. Violations are kept (at least 3 years: they are never
deleted). One run at a time across processes (an advisory lock); a run that finds the lock
taken does nothing.
"""
from __future__ import annotations

import asyncio
import logging
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta, timezone

import asyncpg

from streams.fix import MAX_AGE_MS
from streams.times import now_ms
from tracker.db import positions, replays, retention
from tracker.metrics import MAINTENANCE_FAILURES, MAINTENANCE_LAST_SUCCESS, MAINTENANCE_PARTITIONS, MAINTENANCE_ROWS
from tracker.settings import Settings

log = logging.getLogger(__name__)
LOCK_KEY = 0x68617A6D  # "hazm": pg_try_advisory_lock key of the maintenance run
DAYS_AHEAD = 7
DAILY_S = 24 * 3600


@dataclass
class Maintained:
    dropped: list[date] = field(default_factory=list)
    created: int = 0
    deadletters: int = 0
    outbox: int = 0
    checkpoints: int = 0
    plate_reads: int = 0
    messages: int = 0
    skipped: bool = False  # another process held the lock
    failed: list[str] = field(default_factory=list)

    def summary(self) -> str:
        if self.skipped:
            return "another maintenance run is in progress: nothing done"
        days = (f"{len(self.dropped)} day partitions of positions dropped ({self.dropped[0]}..{self.dropped[-1]})"
                if self.dropped else "no day partition of positions past retention")
        text = (f"{days}; {self.created} partitions created ahead; pruned {self.deadletters} dead letters, "
                f"{self.outbox} published outbox rows, {self.checkpoints} checkpoints, {self.plate_reads} plate reads, "
                f"{self.messages} texts to terminals")
        return text + (f"; FAILED: {'; '.join(self.failed)}" if self.failed else "")


async def maintain(pool: asyncpg.Pool, settings: Settings, today: date | None = None) -> Maintained:
    """One run; `today` (UTC, as the partitions' days are) for tests."""
    today = today or datetime.now(timezone.utc).date()
    out = Maintained()
    async with pool.acquire() as conn:
        if not await conn.fetchval("SELECT pg_try_advisory_lock($1)", LOCK_KEY):
            out.skipped = True
            return out
        try:
            oldest_kept = today - timedelta(days=settings.positions_retention_days)
            for day in await retention.position_days(conn):
                if day < oldest_kept:
                    try:
                        await retention.drop_day(conn, day)
                        out.dropped.append(day)
                    except (asyncpg.LockNotAvailableError, asyncpg.QueryCanceledError) as exc:
                        out.failed.append(f"positions_{day:%Y%m%d} not dropped: {exc}")
            MAINTENANCE_PARTITIONS.labels("dropped").inc(len(out.dropped))
            out.created = await positions.ensure_days(conn, today, today + timedelta(days=DAYS_AHEAD))
            MAINTENANCE_PARTITIONS.labels("created").inc(out.created)
            midnight = datetime(oldest_kept.year, oldest_kept.month, oldest_kept.day, tzinfo=timezone.utc)
            out.deadletters = await retention.prune_deadletters(conn, midnight)
            out.plate_reads = await retention.prune_plate_reads(conn, midnight)
            out.messages = await retention.prune_messages(conn, midnight)
            out.outbox = await retention.prune_outbox(
                conn, datetime.now(timezone.utc) - timedelta(days=settings.outbox_retention_days))
            out.checkpoints = await replays.prune_checkpoints(conn, now_ms() - MAX_AGE_MS)
            for table, n in (("deadletters", out.deadletters), ("outbox", out.outbox),
                             ("vehicle_checkpoints", out.checkpoints), ("plate_reads", out.plate_reads),
                             ("terminal_messages", out.messages)):
                MAINTENANCE_ROWS.labels(table).inc(n)
        finally:
            await conn.execute("SELECT pg_advisory_unlock($1)", LOCK_KEY)
    if out.failed:
        MAINTENANCE_FAILURES.inc()
    else:
        MAINTENANCE_LAST_SUCCESS.set_to_current_time()
    return out


async def maintain_daily(pool: asyncpg.Pool, settings: Settings, every_s: float = DAILY_S) -> None:
    """Run now and then every day until cancelled; a failed run is logged and counted, and
    the next one tries again."""
    while True:
        try:
            log.info("maintenance: %s", (await maintain(pool, settings)).summary())
        except (OSError, asyncpg.PostgresError, asyncio.TimeoutError) as exc:
            MAINTENANCE_FAILURES.inc()
            log.warning("maintenance failed, next try in %s s: %r", every_s, exc)
        await asyncio.sleep(every_s)
