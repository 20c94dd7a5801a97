"""What trips and stops are computed from: a vehicle's stored track, and the geofence each
start and end lies in."""
from __future__ import annotations

from datetime import datetime

import asyncpg

from streams.times import epoch_ms

# Places where stopping is allowed come first: a filling station inside a chemical park
# is reported as the station, and any zone before none.
PLACE_ORDER = "CASE g.kind WHEN 'filling_station' THEN 0 WHEN 'parking' THEN 1 WHEN 'chem_park' THEN 2 ELSE 3 END"

GEOFENCE_AT = f"""
SELECT q.i, g.id FROM unnest($1::float8[], $2::float8[]) WITH ORDINALITY AS q(lon, lat, i)
LEFT JOIN LATERAL (
    SELECT g.id FROM geofences g
    WHERE g.deleted_at IS NULL AND g.active
      AND ST_DWithin(g.geom::geography, ST_SetSRID(ST_MakePoint(q.lon, q.lat), 4326)::geography,
                     coalesce((g.properties->>'radius_m')::float8, (g.properties->>'buffer_m')::float8,
                              CASE WHEN GeometryType(g.geom) LIKE '%LINESTRING' THEN 30 ELSE 0 END))
    ORDER BY {PLACE_ORDER}, g.id LIMIT 1) g ON true
ORDER BY q.i
"""


async def track(pool: asyncpg.Pool, plate: str, since: datetime, until: datetime) -> list[dict]:
    rows = await pool.fetch(
        "SELECT ts, lat, lon, speed_kmh FROM positions WHERE plate = $1 AND ts >= $2 AND ts < $3 ORDER BY ts",
        plate, since, until)
    return [{"ts": epoch_ms(r["ts"]), "lat": r["lat"], "lon": r["lon"], "speed_kmh": r["speed_kmh"]} for r in rows]


async def geofences_at(pool: asyncpg.Pool, points: list[tuple[float, float]]) -> list[str | None]:
    """For each (lat, lon), the id of an active geofence it lies in (a point geofence's
    radius_m and a line's buffer_m included), stop-allowed places first; None for none."""
    if not points:
        return []
    rows = await pool.fetch(GEOFENCE_AT, [p[1] for p in points], [p[0] for p in points])
    return [r["id"] for r in rows]
