"""What the safety office's map reads of a vehicle: its latest position (the workers'
vehicle state), its registry facts, the waybill active now, its open violations, its track."""
from __future__ import annotations

from datetime import datetime

import asyncpg

from tracker.db.handling import SELECT as VIOLATIONS


async def latest(pool: asyncpg.Pool, carrier_id: str | None = None, status: str | None = None,
                 bbox: list[float] | None = None, plate: str | None = None) -> list[asyncpg.Record]:
    """Latest positions with the kinds of violation open and the carrier's name (the
    console groups its fleet list by carrier); headings from the newest stored position
    beside it (the rules' state does not keep them)."""
    return await pool.fetch(
        """SELECT s.plate, v.carrier_id, c.name AS carrier_name, s.last_ts, s.lat, s.lon, s.speed_kmh, s.status, p.heading_deg,
                  ARRAY(SELECT DISTINCT o.value->>'kind' FROM jsonb_each(s.state->'open') AS o
                        ORDER BY 1) AS open_violations
           FROM vehicle_state s LEFT JOIN vehicles v ON v.plate = s.plate
             LEFT JOIN carriers c ON c.id = v.carrier_id
             LEFT JOIN LATERAL (SELECT heading_deg FROM positions
                                WHERE plate = s.plate AND ts = s.last_ts LIMIT 1) p ON true
           WHERE s.last_ts IS NOT NULL AND ($1::text IS NULL OR v.carrier_id = $1)
             AND ($2::text IS NULL OR s.status = $2)
             AND ($3::float8[] IS NULL OR (s.lon BETWEEN $3[1] AND $3[3] AND s.lat BETWEEN $3[2] AND $3[4]))
             AND ($4::text IS NULL OR s.plate = $4)
           ORDER BY s.plate""",
        carrier_id, status, bbox, plate)


async def registered(pool: asyncpg.Pool, plate: str) -> asyncpg.Record | None:
    return await pool.fetchrow(
        """SELECT v.plate, v.carrier_id, c.name AS carrier_name, v.tank_capacity_kg, v.hazard_classes,
                  v.permit_valid_until, v.tank_inspection_valid_until
           FROM vehicles v LEFT JOIN carriers c ON c.id = v.carrier_id WHERE v.plate = $1""", plate)


async def active_waybill(pool: asyncpg.Pool, plate: str) -> asyncpg.Record | None:
    return await pool.fetchrow(
        """SELECT id, un_number, hazard_class, quantity_kg, driver_id, escort_id, origin, destination, valid_from,
                  valid_to FROM waybills WHERE plate = $1 AND valid_from <= now() AND now() < valid_to
           ORDER BY valid_from DESC LIMIT 1""", plate)


async def open_violations(pool: asyncpg.Pool, plate: str) -> list[asyncpg.Record]:
    return await pool.fetch(f"{VIOLATIONS} WHERE v.plate = $1 AND v.status = 'open' ORDER BY v.started_at DESC", plate)


async def track(pool: asyncpg.Pool, plate: str, since: datetime, until: datetime) -> list[asyncpg.Record]:
    return await pool.fetch(
        """SELECT ts, lat, lon, speed_kmh FROM positions WHERE plate = $1 AND ts >= $2 AND ts < $3 ORDER BY ts""",
        plate, since, until)
