"""Geofences and waybills changed since a worker last read them.

`change_seq` comes from one counter row bumped by a trigger in the writing transaction
(migration 0004), whose lock is held to commit: counter order is commit order, so
`change_seq > last seen` misses nothing. The trigger also NOTIFYs CHANNEL.
"""
from __future__ import annotations

import asyncpg
import orjson

from streams.rules.waybills import ActiveWaybill
from streams.times import epoch_ms

CHANNEL = "hazmat_references"


async def lock_references(conn: asyncpg.Connection) -> None:
    """Take the change counter's lock first, as the tables' statement triggers do, for a
    transaction that locks a reference row before it writes one."""
    await conn.execute("SELECT 1 FROM reference_clock WHERE id = 1 FOR UPDATE")


async def changed_geofences(pool: asyncpg.Pool, since: int) -> list[asyncpg.Record]:
    return await pool.fetch(
        """SELECT id, kind, name, active, properties, version, deleted_at, change_seq,
                  ST_AsGeoJSON(geom, 15)::text AS geometry, cover_resolution, cover_interior, cover_boundary
           FROM geofences WHERE change_seq > $1 ORDER BY change_seq""", since)


async def changed_waybills(pool: asyncpg.Pool, since: int) -> list[tuple[int, ActiveWaybill]]:
    rows = await pool.fetch(
        """SELECT id, plate, un_number, valid_from, valid_to, origin, destination, change_seq,
                  ST_AsGeoJSON(route)::text AS route
           FROM waybills WHERE change_seq > $1 ORDER BY change_seq""", since)
    return [(r["change_seq"], ActiveWaybill(
        id=r["id"], plate=r["plate"], un_number=r["un_number"], valid_from=epoch_ms(r["valid_from"]),
        valid_to=epoch_ms(r["valid_to"]), origin=(r["origin"]["lat"], r["origin"]["lon"]),
        destination=(r["destination"]["lat"], r["destination"]["lon"]), route=orjson.loads(r["route"])))
        for r in rows]
