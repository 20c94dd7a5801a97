"""Incidents as stored, their live geofences and their events.

An incident row holds its inputs, the Incident as last computed and `n`, the number of
its last event. Every change writes, in one transaction: the row, the zones as geofences
of kind `incident_zone` (one a zone; removed when it closes), which the reference
triggers count and NOTIFY so the workers' rules have them within the contract's 2 s, and
the CloudEvent to the outbox, which the workers' relay publishes once committed.
"""
from __future__ import annotations

import asyncpg
import orjson

from streams.vocabulary import INCIDENT_ZONE
from tracker.db import outbox

COLUMNS = "id, status, kind, plate, carrier_id, lat, lon, opened_at, closed_at, inputs, incident, n"


async def without_jit(conn: asyncpg.Connection) -> None:
    """For the rest of this transaction, no JIT compilation: the planner's cost of the
    spatial filters over a few thousand rows passes its JIT threshold, and compiling
    took 5-10 ms of a 2 ms query (bench/RESULTS.md, the incident desk)."""
    await conn.execute("SET LOCAL jit = off")


async def insert(conn: asyncpg.Connection, incident: dict, inputs: dict, opened_at, n: int) -> None:
    await conn.execute(
        """INSERT INTO incidents (id, status, kind, plate, carrier_id, lat, lon, opened_at, inputs, incident, n)
           VALUES ($1, 'open', $2, $3, $4, $5, $6, $7, $8, $9, $10)""",
        incident["incident_id"], incident["kind"], incident["plate"], incident["carrier_id"], incident["lat"],
        incident["lon"], opened_at, inputs, incident, n)


async def locked(conn: asyncpg.Connection, incident_id: str) -> asyncpg.Record | None:
    return await conn.fetchrow(f"SELECT {COLUMNS} FROM incidents WHERE id = $1 FOR UPDATE", incident_id)


async def update(conn: asyncpg.Connection, incident: dict, inputs: dict, closed_at, n: int) -> None:
    await conn.execute(
        """UPDATE incidents SET status = $2, closed_at = $3, inputs = $4, incident = $5, n = $6 WHERE id = $1""",
        incident["incident_id"], incident["status"], closed_at, inputs, incident, n)


async def fetch(pool: asyncpg.Pool, incident_id: str) -> asyncpg.Record | None:
    return await pool.fetchrow(f"SELECT {COLUMNS} FROM incidents WHERE id = $1", incident_id)


async def page(pool: asyncpg.Pool, status: str | None, since, after: tuple | None, limit: int) -> list[asyncpg.Record]:
    """Newest first, from after the (opened_at, id) a previous page ended at."""
    return await pool.fetch(
        f"""SELECT {COLUMNS} FROM incidents
            WHERE ($1::text IS NULL OR status = $1) AND ($2::timestamptz IS NULL OR opened_at >= $2)
              AND ($3::timestamptz IS NULL OR (opened_at, id) < ($3, $4::text))
            ORDER BY opened_at DESC, id DESC LIMIT $5""",
        status, since, after[0] if after else None, after[1] if after else None, limit)


async def put_zones(conn: asyncpg.Connection, geofences: list[dict]) -> None:
    """Write an open incident's zones as geofences (a new version of each on a change)."""
    await conn.executemany(
        f"""INSERT INTO geofences (id, kind, name, active, properties, geom, version)
            VALUES ($1, '{INCIDENT_ZONE}', $2, true, $3, ST_SetSRID(ST_GeomFromGeoJSON($4), 4326), 1)
            ON CONFLICT (id) DO UPDATE SET name = EXCLUDED.name, properties = EXCLUDED.properties,
              geom = EXCLUDED.geom, version = geofences.version + 1, updated_at = now(), deleted_at = NULL
            WHERE geofences.kind = '{INCIDENT_ZONE}'""",
        [(g["id"], g["name"], g["properties"], orjson.dumps(g["geometry"]).decode()) for g in geofences])


async def remove_zones(conn: asyncpg.Connection, incident_id: str) -> None:
    """A closed incident's zones stop being geofences (kept as deleted rows, so workers see
    the deletion as one more change)."""
    await conn.execute(
        f"""UPDATE geofences SET deleted_at = now(), version = version + 1, updated_at = now()
            WHERE kind = '{INCIDENT_ZONE}' AND properties->>'incident_id' = $1 AND deleted_at IS NULL""",
        incident_id)


async def announce(conn: asyncpg.Connection, topic: str, event: dict) -> None:
    await outbox.insert_one(conn, topic, event["subject"], event["id"], orjson.dumps(event))


async def plate_now(pool: asyncpg.Pool, plate: str) -> asyncpg.Record | None:
    """A registered vehicle's carrier, last position (null without one) and the UN number
    of its waybill active now; None for a plate not in the registry."""
    return await pool.fetchrow(
        """SELECT v.plate, v.carrier_id, s.lat, s.lon, s.last_ts,
                  (SELECT w.un_number FROM waybills w WHERE w.plate = v.plate AND w.valid_from <= now()
                     AND now() < w.valid_to ORDER BY w.valid_from DESC LIMIT 1) AS un_number
           FROM vehicles v LEFT JOIN vehicle_state s ON s.plate = v.plate WHERE v.plate = $1""", plate)


async def vehicles_within(pool: asyncpg.Pool, area_wkb: bytes) -> list[asyncpg.Record]:
    """Vehicles whose last position is in `area` (WKB, WGS-84: an incident's zones), with
    carrier, status, last time and the UN number of the waybill active now."""
    return await pool.fetch(
        """SELECT s.plate, v.carrier_id, s.lat, s.lon, s.status, s.last_ts,
                  (SELECT w.un_number FROM waybills w WHERE w.plate = s.plate AND w.valid_from <= now()
                     AND now() < w.valid_to ORDER BY w.valid_from DESC LIMIT 1) AS un_number
           FROM vehicle_state s LEFT JOIN vehicles v ON v.plate = s.plate,
                (SELECT ST_GeomFromWKB($1, 4326) AS a) AS area
           WHERE s.last_ts IS NOT NULL AND s.lon BETWEEN ST_XMin(area.a) AND ST_XMax(area.a)
             AND s.lat BETWEEN ST_YMin(area.a) AND ST_YMax(area.a)
             AND ST_Intersects(ST_SetSRID(ST_MakePoint(s.lon, s.lat), 4326), area.a)""",
        area_wkb)
