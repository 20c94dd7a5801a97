"""Refused items as stored by the dead-letter group (tracker.workers.deadletters)."""
from __future__ import annotations

import asyncpg

COLUMNS = ["received_at", "plate", "source", "is_fix", "error", "input"]


async def insert_deadletters(conn: asyncpg.Connection, rows: list[tuple]) -> None:
    """Rows of (received_at epoch ms, plate, source, is_fix, error, input JSON bytes)."""
    if rows:
        await conn.executemany(
            "INSERT INTO deadletters (received_at, plate, source, is_fix, error, input) VALUES ($1, $2, $3, $4, $5, $6)",
            rows)
