"""What the filling cross-check reads and writes in PostGIS."""
from __future__ import annotations

from datetime import timedelta

import asyncpg

from filling_stations.checks import PRESENCE_WINDOW_MS, Person, Vehicle, Waybill
from streams.times import epoch_ms, utc


async def insert_new(conn: asyncpg.Connection, records: list[dict]) -> set[tuple[str, str]]:
    """Store records not seen before; the (station_id, id) actually inserted (a re-post is
    one record; ids are each station's own, so two stations may use the same)."""
    rows = await conn.fetch(
        """INSERT INTO filling_records (id, station_id, plate, filled_at, record, received_at, checks)
           SELECT r.id, r.station_id, r.plate, r.filled_at, r.record, r.received_at, '{}'::jsonb
           FROM unnest($1::text[], $2::text[], $3::text[], $4::timestamptz[], $5::jsonb[], $6::timestamptz[])
                AS r(id, station_id, plate, filled_at, record, received_at)
           ON CONFLICT (station_id, id) DO NOTHING RETURNING station_id, id""",
        [r["id"] for r in records], [r["station_id"] for r in records], [r["plate"] for r in records],
        [utc(r["filled_at"]) for r in records], records, [utc(r["received_at"]) for r in records])
    return {(r["station_id"], r["id"]) for r in rows}


async def vehicle(conn: asyncpg.Connection, plate: str) -> Vehicle | None:
    row = await conn.fetchrow("SELECT * FROM vehicles WHERE plate = $1", plate)
    if row is None:
        return None
    return Vehicle(row["plate"], row["carrier_id"], row["tank_capacity_kg"], tuple(row["hazard_classes"]),
                   row["permit_valid_until"], row["tank_inspection_valid_until"])


async def people(conn: asyncpg.Connection, ids: list[str]) -> dict[str, Person]:
    rows = await conn.fetch("SELECT id, qualification_valid_until FROM drivers WHERE id = ANY($1::text[])", ids)
    return {r["id"]: Person(r["id"], r["qualification_valid_until"]) for r in rows}


async def waybills(conn: asyncpg.Connection, plate: str) -> list[Waybill]:
    rows = await conn.fetch("SELECT id, un_number, valid_from, valid_to FROM waybills WHERE plate = $1", plate)
    return [Waybill(r["id"], r["un_number"], epoch_ms(r["valid_from"]), epoch_ms(r["valid_to"])) for r in rows]


async def fixes_around(conn: asyncpg.Connection, plate: str, at: int,
                       window_ms: int = PRESENCE_WINDOW_MS) -> list[tuple[int, float, float]]:
    """The plate's stored (ts, lat, lon) within `window_ms` of `at` (also the plate reads' window)."""
    window = timedelta(milliseconds=window_ms)
    rows = await conn.fetch("SELECT ts, lat, lon FROM positions WHERE plate = $1 AND ts BETWEEN $2 AND $3",
                            plate, utc(at) - window, utc(at) + window)
    return [(epoch_ms(r["ts"]), r["lat"], r["lon"]) for r in rows]


async def pending(conn: asyncpg.Connection, limit: int = 500) -> list[dict]:
    rows = await conn.fetch(
        """SELECT record, checks FROM filling_records WHERE checks->>'presence' = 'pending'
           ORDER BY filled_at LIMIT $1 FOR UPDATE SKIP LOCKED""", limit)
    return [dict(r["record"], _checks=r["checks"]) for r in rows]


async def save_checks(conn: asyncpg.Connection, checks: dict[tuple[str, str], dict]) -> None:
    """Check results by (station_id, id)."""
    await conn.executemany("UPDATE filling_records SET checks = $3 WHERE station_id = $1 AND id = $2",
                           [(station, rid, c) for (station, rid), c in checks.items()])


async def listed(pool: asyncpg.Pool, station_id: str | None, since, until, limit: int) -> list[asyncpg.Record]:
    """Records with their check results, newest first."""
    return await pool.fetch(
        """SELECT record, checks FROM filling_records
           WHERE ($1::text IS NULL OR station_id = $1) AND ($2::timestamptz IS NULL OR filled_at >= $2)
             AND ($3::timestamptz IS NULL OR filled_at < $3)
           ORDER BY filled_at DESC, station_id, id DESC LIMIT $4""",
        station_id, since, until, limit)
