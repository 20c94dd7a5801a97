"""What retention removes: whole day partitions of positions, and rows of the tables that
only serve the recent past (dead letters, published outbox rows, checkpoint cameras'
reads, finished texts to terminals). Violations are never touched: no key ties them to
positions, so dropping a day of positions leaves them whole."""
from __future__ import annotations

import re
from datetime import date, datetime

import asyncpg

PARTITION = re.compile(r"positions_(\d{8})")


async def position_days(conn: asyncpg.Connection | asyncpg.Pool) -> list[date]:
    """The days positions has partitions for, oldest first."""
    rows = await conn.fetch(
        """SELECT c.relname FROM pg_inherits i JOIN pg_class c ON c.oid = i.inhrelid
           WHERE i.inhparent = 'positions'::regclass""")
    days = []
    for r in rows:
        m = PARTITION.fullmatch(r["relname"])
        if m:
            s = m.group(1)
            days.append(date(int(s[:4]), int(s[4:6]), int(s[6:])))
    return sorted(days)


async def drop_day(conn: asyncpg.Connection, day: date, lock_timeout_s: int = 10) -> None:
    """Drop one day's partition; waits at most `lock_timeout_s` for readers and writers of
    positions (a long report query) and raises then, so the next run tries again."""
    async with conn.transaction():
        await conn.execute(f"SET LOCAL lock_timeout = '{int(lock_timeout_s)}s'")
        await conn.execute(f'DROP TABLE IF EXISTS "positions_{day:%Y%m%d}"')


async def prune_deadletters(conn: asyncpg.Connection, before: datetime) -> int:
    return int((await conn.execute("DELETE FROM deadletters WHERE received_at < $1", before)).split()[-1])


async def prune_outbox(conn: asyncpg.Connection, before: datetime) -> int:
    """Published rows only: a row not yet published is an event still owed to the broker."""
    return int((await conn.execute("DELETE FROM outbox WHERE published_at < $1", before)).split()[-1])


async def prune_plate_reads(conn: asyncpg.Connection, before: datetime) -> int:
    """Reads older than the positions they were checked against (their pending checks go
    with them: ON DELETE CASCADE). The intake refuses reads that old, so a read id pruned
    here cannot come back as new."""
    return int((await conn.execute("DELETE FROM plate_reads WHERE ts < $1", before)).split()[-1])


async def prune_messages(conn: asyncpg.Connection, before: datetime) -> int:
    """Texts to terminals created before `before` and finished (delivered, failed,
    expired); one still queued or sent is left to its own expiry."""
    return int((await conn.execute(
        "DELETE FROM terminal_messages WHERE created_at < $1 AND state IN ('delivered', 'failed', 'expired')",
        before)).split()[-1])
