"""Stored fixes: `positions`, range-partitioned by day on `ts`."""
from __future__ import annotations

from datetime import date

import asyncpg

COLUMNS = ["plate", "ts", "lat", "lon", "speed_kmh", "heading_deg", "alt_m", "h3_cell", "source", "received_at"]


async def ensure_days(conn: asyncpg.Connection | asyncpg.Pool, first: date, last: date) -> int:
    """Day partitions of `positions` for every day from first to last; how many were made."""
    return await conn.fetchval("SELECT hazmat_ensure_position_partitions($1, $2)", first, last)


async def ensure_window(pool: asyncpg.Pool, days_back: int = 8, days_ahead: int = 2) -> int:
    """Day partitions for every fix the API can accept (7 days late, 5 min early)."""
    return await pool.fetchval(
        "SELECT hazmat_ensure_position_partitions(current_date - $1::int, current_date + $2::int)",
        days_back, days_ahead)
