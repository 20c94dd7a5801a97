"""The sites table: the places an incident's zones are checked against (schools,
hospitals, fire stations). Written by PUT/DELETE /v1/sites; read by GET /v1/sites and,
as shapely geometries in WKB, by the incident desk."""
from __future__ import annotations

import asyncpg

COLUMNS = "id, kind, name, properties, updated_at, ST_AsGeoJSON(geom, 7) AS geometry"


async def put(pool: asyncpg.Pool, sid: str, kind: str, name: str, properties: dict,
              geometry_json: str) -> asyncpg.Record:
    """The stored row, with `existed` (a site of that id was replaced)."""
    return await pool.fetchrow(
        f"""WITH before AS (SELECT 1 FROM sites WHERE id = $1)
            INSERT INTO sites (id, kind, name, properties, geom)
            VALUES ($1, $2, $3, $4, ST_SetSRID(ST_Force2D(ST_GeomFromGeoJSON($5)), 4326))
            ON CONFLICT (id) DO UPDATE SET kind = EXCLUDED.kind, name = EXCLUDED.name,
              properties = EXCLUDED.properties, geom = EXCLUDED.geom, updated_at = now()
            RETURNING {COLUMNS}, EXISTS (SELECT 1 FROM before) AS existed""",
        sid, kind, name, properties, geometry_json)


async def delete(pool: asyncpg.Pool, sid: str) -> bool:
    return await pool.fetchval("DELETE FROM sites WHERE id = $1 RETURNING id", sid) is not None


async def listed(pool: asyncpg.Pool, kind: str | None, bbox: list[float] | None) -> list[asyncpg.Record]:
    return await pool.fetch(
        f"""SELECT {COLUMNS} FROM sites
            WHERE ($1::text IS NULL OR kind = $1)
              AND ($2::float8[] IS NULL OR geom && ST_MakeEnvelope($2[1], $2[2], $2[3], $2[4], 4326))
            ORDER BY id""",
        kind, bbox)


async def within(pool: asyncpg.Pool, area_wkb: bytes) -> list[asyncpg.Record]:
    """Sites meeting `area` (WKB, WGS-84: an incident's zones, drawn circumscribed, so
    nothing within their distances is left out): the candidates the incident desk then
    classifies exactly; geometries as WKB."""
    return await pool.fetch(
        """SELECT id, kind, name, ST_AsBinary(geom) AS wkb FROM sites, (SELECT ST_GeomFromWKB($1, 4326) AS a) AS area
           WHERE geom && area.a AND ST_Intersects(geom, area.a)""", area_wkb)


async def of_kinds(pool: asyncpg.Pool, kinds: tuple[str, ...]) -> list[asyncpg.Record]:
    """Every site of `kinds` (the responders: a district has tens of them); WKB geometries."""
    return await pool.fetch(
        "SELECT id, kind, name, ST_AsBinary(geom) AS wkb FROM sites WHERE kind = ANY($1::text[])", list(kinds))
