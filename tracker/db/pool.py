"""The one owner of database connections: an asyncpg pool with JSON codecs set up."""
from __future__ import annotations

import asyncpg
import orjson


async def _init_connection(conn: asyncpg.Connection) -> None:
    for typename in ("json", "jsonb"):
        await conn.set_type_codec(
            typename, schema="pg_catalog", encoder=lambda v: orjson.dumps(v).decode(), decoder=orjson.loads
        )


async def create_pool(dsn: str, *, min_size: int = 1, max_size: int = 10) -> asyncpg.Pool:
    return await asyncpg.create_pool(
        dsn, min_size=min_size, max_size=max_size, init=_init_connection, command_timeout=60
    )


async def ensure_position_partitions(pool: asyncpg.Pool, days_back: int = 8, days_ahead: int = 2) -> int:
    """Make sure day partitions exist for every fix the API can accept (7 days late, 5 min early)."""
    return await pool.fetchval(
        "SELECT hazmat_ensure_position_partitions(current_date - $1::int, current_date + $2::int)",
        days_back,
        days_ahead,
    )
