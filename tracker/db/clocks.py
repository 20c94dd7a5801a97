"""The fix workers' partition clocks, kept beside their offsets in `consumer_offsets`.

Written by the fix worker (with each batch, in its transaction; and while a partition is
quiet, its timer clock every few seconds); read back at a rebalance, and by the checks
that wait until a vehicle's track covers a moment (streams.clock.window_due).
"""
from __future__ import annotations

import asyncpg

from streams.clock import PartitionClock, WindowClocks
from streams.kafka import partition_for

# A quiet clock older than this is its worker's last word, not a live clock: a worker that
# stopped is waited for, not extrapolated.
QUIET_FRESH_S = 30


async def save_event_times(conn: asyncpg.Connection, group: str,
                           clocks: dict[tuple[str, int], tuple[int, int, int]]) -> None:
    """With a batch's offsets (the rows exist): each partition's (event_ms, received_ms,
    partition count); the partition is busy, so any quiet clock is cleared."""
    await conn.executemany(
        """UPDATE consumer_offsets SET event_ms = $4, received_ms = $5, partitions = $6,
             quiet_clock_ms = NULL, quiet_at = NULL
           WHERE group_id = $1 AND topic = $2 AND partition = $3""",
        [(group, topic, p, *clock) for (topic, p), clock in clocks.items()])


async def save_quiet(pool: asyncpg.Pool, group: str, topic: str, clocks: dict[int, int]) -> None:
    """Quiet partitions' timer clocks, as of now. A partition where nothing was ever
    consumed has no row and gets none (a made-up offset would be sought to)."""
    await pool.executemany(
        """UPDATE consumer_offsets SET quiet_clock_ms = $4, quiet_at = now()
           WHERE group_id = $1 AND topic = $2 AND partition = $3""",
        [(group, topic, p, clock) for p, clock in clocks.items()])


async def stored_clocks(pool: asyncpg.Pool, group: str, topic: str) -> dict[int, PartitionClock]:
    rows = await pool.fetch("""SELECT partition, event_ms, received_ms FROM consumer_offsets
                               WHERE group_id = $1 AND topic = $2 AND event_ms IS NOT NULL""", group, topic)
    return {r["partition"]: PartitionClock(r["event_ms"], r["received_ms"]) for r in rows}


async def window_clocks(conn: asyncpg.Connection, group: str, topic: str, plates: list[str]) -> dict[str, WindowClocks]:
    """How far each plate's track has got: its newest stored fix and its partition's clocks."""
    rows = await conn.fetch(
        """SELECT partition, partitions, event_ms,
                  CASE WHEN quiet_at > now() - make_interval(secs => $3)
                       THEN quiet_clock_ms + (extract(epoch FROM now() - quiet_at) * 1000)::bigint END AS quiet
           FROM consumer_offsets WHERE group_id = $1 AND topic = $2 AND partitions IS NOT NULL""",
        group, topic, QUIET_FRESH_S)
    last = dict(await conn.fetch(
        "SELECT plate, (extract(epoch FROM last_ts) * 1000)::bigint FROM vehicle_state WHERE plate = ANY($1::text[])",
        plates))
    count = max((r["partitions"] for r in rows), default=0)
    by_partition = {r["partition"]: r for r in rows}
    out = {}
    for plate in plates:
        row = by_partition.get(partition_for(plate.encode(), range(count))) if count else None
        out[plate] = WindowClocks(vehicle_last_ms=last.get(plate),
                                  partition_event_ms=row["event_ms"] if row else None,
                                  quiet_clock_ms=row["quiet"] if row else None, known=row is not None)
    return out
