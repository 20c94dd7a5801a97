"""Consumed offsets, kept in PostGIS in the same transaction as what the batch produced."""
from __future__ import annotations

import asyncpg


async def stored_offsets(pool: asyncpg.Pool, group: str, topic: str) -> dict[int, int]:
    rows = await pool.fetch("SELECT partition, next_offset FROM consumer_offsets WHERE group_id = $1 AND topic = $2",
                            group, topic)
    return {r["partition"]: r["next_offset"] for r in rows}


async def save_offsets(conn: asyncpg.Connection, group: str, offsets: dict[tuple[str, int], int]) -> None:
    await conn.executemany(
        """INSERT INTO consumer_offsets (group_id, topic, partition, next_offset, updated_at)
           VALUES ($1, $2, $3, $4, now())
           ON CONFLICT (group_id, topic, partition) DO UPDATE SET next_offset = EXCLUDED.next_offset,
             updated_at = now()""",
        [(group, topic, partition, offset) for (topic, partition), offset in offsets.items()])


async def forget_offsets(pool: asyncpg.Pool) -> int:
    """Drop every stored consumer offset: for a broker whose topics are new (the embedded
    in-memory broker after a restart), where old offsets would skip their records."""
    return int((await pool.execute("DELETE FROM consumer_offsets")).split()[-1])
