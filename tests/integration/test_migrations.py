"""Alembic: an empty database to head, back to base, and to head again."""
from __future__ import annotations

import asyncio

import asyncpg
import pytest

from tests import stack
from tracker.db import migrate
from tracker.db.models import Base

pytestmark = pytest.mark.integration

TABLES = set(Base.metadata.tables)


async def _tables(url: str) -> set[str]:
    conn = await asyncpg.connect(url)
    try:
        rows = await conn.fetch("SELECT relname FROM pg_class WHERE relnamespace = 'public'::regnamespace "
                                "AND relkind IN ('r', 'p')")
        return {r["relname"] for r in rows}
    finally:
        await conn.close()


def test_empty_to_head_to_base_and_back(pg_server):
    with stack.fresh_database(pg_server, migrated=False) as url:
        asyncio.run(_round_trip(url))


async def _round_trip(url: str) -> None:
    sa_url = url.replace("postgresql://", "postgresql+asyncpg://", 1)
    await migrate.upgrade(sa_url)
    tables = await _tables(url)
    assert TABLES <= tables
    days = sorted(t for t in tables if t.startswith("positions_"))
    assert len(days) == 11  # 8 days back (7-day-late fixes and a margin), today, 2 ahead
    await migrate.downgrade(sa_url)
    assert await _tables(url) & (TABLES | set(days)) == set()
    await migrate.upgrade(sa_url)
    assert TABLES <= await _tables(url)


async def test_late_fix_days_have_partitions_and_insert_works(database_url):
    conn = await asyncpg.connect(database_url)
    try:
        await conn.execute("SELECT hazmat_ensure_position_partitions(current_date - 8, current_date + 2)")
        await conn.execute(
            """INSERT INTO positions (plate, ts, lat, lon, speed_kmh, heading_deg, h3_cell, source, received_at)
               VALUES ('P', now() - interval '7 days', 29.9, 121.8, 0, 0, 1, 'http', now()),
                      ('P', now() + interval '4 minutes', 29.9, 121.8, 0, 0, 1, 'http', now())""")
        made = await conn.fetchval("SELECT hazmat_ensure_position_partitions(current_date - 8, current_date + 2)")
        assert made == 0  # idempotent
    finally:
        await conn.close()
