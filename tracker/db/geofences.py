"""The geofences table as the API writes and lists it. Every change raises the row's
`version`; a deletion keeps the row (deleted_at set) so workers see it as one more change.

Rows of kind `incident_zone` are the incident desk's (tracker/db/incidents.py): this
module neither lists, replaces nor deletes them."""
from __future__ import annotations

import asyncpg

from streams.vocabulary import INCIDENT_ZONE

COLUMNS = "id, kind, name, active, properties, version, ST_AsGeoJSON(geom, 7) AS geometry"


async def put(pool: asyncpg.Pool, gid: str, kind: str, name: str, active: bool, properties: dict,
              geometry_json: str) -> asyncpg.Record | None:
    """The stored row, with `existed` (a live geofence of that id was replaced); None when
    the id is an incident's zone. One statement: the reference triggers lock the change
    counter before any row."""
    return await pool.fetchrow(
        f"""WITH before AS (SELECT deleted_at IS NULL AS live FROM geofences WHERE id = $1)
            INSERT INTO geofences (id, kind, name, active, properties, geom, version)
            VALUES ($1, $2, $3, $4, $5, ST_SetSRID(ST_Force2D(ST_GeomFromGeoJSON($6)), 4326), 1)
            ON CONFLICT (id) DO UPDATE SET kind = EXCLUDED.kind, name = EXCLUDED.name, active = EXCLUDED.active,
              properties = EXCLUDED.properties, geom = EXCLUDED.geom, version = geofences.version + 1,
              updated_at = now(), deleted_at = NULL
            WHERE geofences.kind <> '{INCIDENT_ZONE}'
            RETURNING {COLUMNS}, coalesce((SELECT live FROM before), false) AS existed""",
        gid, kind, name, active, properties, geometry_json)


async def delete(pool: asyncpg.Pool, gid: str) -> bool:
    deleted = await pool.fetchval(
        """UPDATE geofences SET deleted_at = now(), version = version + 1, updated_at = now()
           WHERE id = $1 AND deleted_at IS NULL AND kind <> $2 RETURNING id""", gid, INCIDENT_ZONE)
    return deleted is not None


async def listed(pool: asyncpg.Pool, kind: str | None, bbox: list[float] | None) -> list[asyncpg.Record]:
    return await pool.fetch(
        f"""SELECT {COLUMNS} FROM geofences
            WHERE deleted_at IS NULL AND ($1::text IS NULL OR kind = $1) AND kind <> '{INCIDENT_ZONE}'
              AND ($2::float8[] IS NULL OR geom && ST_MakeEnvelope($2[1], $2[2], $2[3], $2[4], 4326))
            ORDER BY id""",
        kind, bbox)
