"""Per-vehicle rule states: the fix workers' memory, and the map's latest positions."""
from __future__ import annotations

import asyncpg

from streams.rules.state import VehicleState


def state_row(state: VehicleState) -> tuple:
    return (state.plate, state.snapshot(), state.last_ts, state.last_lat, state.last_lon, state.last_speed,
            state.status)


async def stored_states(pool: asyncpg.Pool) -> list[VehicleState]:
    rows = await pool.fetch("SELECT state FROM vehicle_state")
    return [VehicleState.from_json(r["state"]) for r in rows]


async def upsert_states(conn: asyncpg.Connection, rows: list[tuple]) -> None:
    """Rows of state_row()."""
    if rows:
        await conn.executemany(
            """INSERT INTO vehicle_state (plate, state, last_ts, lat, lon, speed_kmh, heading_deg, status, updated_at)
               VALUES ($1, $2, $3, $4, $5, $6, NULL, $7, now())
               ON CONFLICT (plate) DO UPDATE SET state = EXCLUDED.state, last_ts = EXCLUDED.last_ts,
                 lat = EXCLUDED.lat, lon = EXCLUDED.lon, speed_kmh = EXCLUDED.speed_kmh,
                 status = EXCLUDED.status, updated_at = now()""", rows)
