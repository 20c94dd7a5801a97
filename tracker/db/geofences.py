"""The geofences table as the API writes and lists it. Every change raises the row's
`version`; a deletion keeps the row (deleted_at set) so workers see it as one more change.

Rows of kind `incident_zone` are the incident desk's (tracker/db/incidents.py): this
module neither lists, replaces nor deletes them."""
from __future__ import annotations

import asyncpg

from streams.vocabulary import INCIDENT_ZONE

COLUMNS = "id, kind, name, active, properties, version, ST_AsGeoJSON(geom, 7) AS geometry"


async def put(pool: asyncpg.Pool, gid: str, kind: str, name: str, active: bool, properties: dict,
              geometry_json: str, resolution: int, cover: tuple[set[int], set[int]]) -> asyncpg.Record | None:
    """The stored row, with `existed` (a live geofence of that id was replaced), and its
    H3 cover at `resolution` (geofence.index.cover_feature); None when the id is an
    incident's zone. One statement: the reference triggers lock the change counter before
    any row."""
    interior, boundary = cover
    return await pool.fetchrow(
        f"""WITH before AS (SELECT deleted_at IS NULL AS live FROM geofences WHERE id = $1)
            INSERT INTO geofences (id, kind, name, active, properties, geom, version,
                                   cover_resolution, cover_interior, cover_boundary)
            VALUES ($1, $2, $3, $4, $5, ST_SetSRID(ST_Force2D(ST_GeomFromGeoJSON($6)), 4326), 1, $7, $8, $9)
            ON CONFLICT (id) DO UPDATE SET kind = EXCLUDED.kind, name = EXCLUDED.name, active = EXCLUDED.active,
              properties = EXCLUDED.properties, geom = EXCLUDED.geom, version = geofences.version + 1,
              cover_resolution = EXCLUDED.cover_resolution, cover_interior = EXCLUDED.cover_interior,
              cover_boundary = EXCLUDED.cover_boundary, updated_at = now(), deleted_at = NULL
            WHERE geofences.kind <> '{INCIDENT_ZONE}'
            RETURNING {COLUMNS}, coalesce((SELECT live FROM before), false) AS existed""",
        gid, kind, name, active, properties, geometry_json, resolution, sorted(interior), sorted(boundary))


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
