"""The outbox: events written with the state that caused them, published afterwards."""
from __future__ import annotations

import asyncpg

COLUMNS = ["topic", "key", "event_id", "value"]


async def insert_outbox(conn: asyncpg.Connection, rows: list[tuple]) -> None:
    """(topic, key, event id, value) rows, by COPY: a batch in which many vehicles break a
    rule at once writes thousands (each event to hazmat.violations.v1 and to every
    agency's topic)."""
    if rows:
        await conn.copy_records_to_table("outbox", records=rows, columns=COLUMNS)


async def insert_one(conn: asyncpg.Connection, topic: str, key: str | None, event_id: str, value: bytes) -> None:
    """One event (an API's single change): an INSERT, fewer round trips than a COPY."""
    await conn.execute("INSERT INTO outbox (topic, key, event_id, value) VALUES ($1, $2, $3, $4)",
                       topic, key, event_id, value)


async def lock_pending(conn: asyncpg.Connection, limit: int) -> list[asyncpg.Record]:
    """Unpublished rows in order, locked; rows another relay holds are skipped."""
    return await conn.fetch(
        """SELECT id, topic, key, value FROM outbox WHERE published_at IS NULL
           ORDER BY id LIMIT $1 FOR UPDATE SKIP LOCKED""", limit)


async def mark_published(conn: asyncpg.Connection, ids: list[int]) -> None:
    await conn.execute("UPDATE outbox SET published_at = now() WHERE id = ANY($1::bigint[])", ids)


async def emitted(pool: asyncpg.Pool, event_ids: list[str]) -> set[str]:
    """Which of these event ids the outbox holds already (sent, or about to be)."""
    rows = await pool.fetch("SELECT DISTINCT event_id FROM outbox WHERE event_id = ANY($1::text[])", event_ids)
    return {r["event_id"] for r in rows}
