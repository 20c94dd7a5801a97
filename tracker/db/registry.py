"""The registry's tables: carriers, vehicles, drivers."""
from __future__ import annotations

from datetime import date

import asyncpg

from streams.fix import valid_plate


async def carrier_ids(pool: asyncpg.Pool) -> set[str]:
    return {r["id"] for r in await pool.fetch("SELECT id FROM carriers")}


async def carriers_by_plate(pool: asyncpg.Pool) -> dict[str, str]:
    """Every vehicle's carrier: the intake's ownership check (tracker.intake.fleet)."""
    return {r["plate"]: r["carrier_id"] for r in await pool.fetch("SELECT plate, carrier_id FROM vehicles")}


async def carrier_of(pool: asyncpg.Pool, plate: str) -> str | None:
    return await pool.fetchval("SELECT carrier_id FROM vehicles WHERE plate = $1", plate)


async def vehicle_exists(pool: asyncpg.Pool, plate: str) -> bool:
    return await pool.fetchval("SELECT 1 FROM vehicles WHERE plate = $1", plate) is not None


async def people(pool: asyncpg.Pool, ids: list[str]) -> dict[str, asyncpg.Record]:
    """Drivers and escorts by id: their carrier and roles."""
    rows = await pool.fetch("SELECT id, carrier_id, roles FROM drivers WHERE id = ANY($1::text[])", ids)
    return {r["id"]: r for r in rows}


async def upsert(pool: asyncpg.Pool, carriers: list, vehicles: list, drivers: list) -> None:
    async with pool.acquire() as conn, conn.transaction():
        await conn.executemany(
            """INSERT INTO carriers (id, name, license_no) VALUES ($1, $2, $3)
               ON CONFLICT (id) DO UPDATE SET name = EXCLUDED.name, license_no = EXCLUDED.license_no,
               updated_at = now()""",
            [(c["id"], c["name"], c.get("license_no")) for c in carriers],
        )
        await conn.executemany(
            """INSERT INTO vehicles (plate, carrier_id, tank_capacity_kg, hazard_classes, permit_valid_until,
                                     tank_inspection_valid_until, terminal_phone)
               VALUES ($1, $2, $3, $4, $5, $6, $7)
               ON CONFLICT (plate) DO UPDATE SET carrier_id = EXCLUDED.carrier_id,
                 tank_capacity_kg = EXCLUDED.tank_capacity_kg, hazard_classes = EXCLUDED.hazard_classes,
                 permit_valid_until = EXCLUDED.permit_valid_until,
                 tank_inspection_valid_until = EXCLUDED.tank_inspection_valid_until,
                 terminal_phone = EXCLUDED.terminal_phone, updated_at = now()""",
            [(valid_plate(v["plate"]), v["carrier_id"], v["tank_capacity_kg"], v["hazard_classes"],
              date.fromisoformat(v["permit_valid_until"]), date.fromisoformat(v["tank_inspection_valid_until"]),
              v.get("terminal_phone")) for v in vehicles],
        )
        await conn.executemany(
            """INSERT INTO drivers (id, name, carrier_id, roles, qualification_valid_until)
               VALUES ($1, $2, $3, $4, $5)
               ON CONFLICT (id) DO UPDATE SET name = EXCLUDED.name, carrier_id = EXCLUDED.carrier_id,
                 roles = EXCLUDED.roles, qualification_valid_until = EXCLUDED.qualification_valid_until,
                 updated_at = now()""",
            [(d["id"], d["name"], d["carrier_id"], d["roles"], date.fromisoformat(d["qualification_valid_until"]))
             for d in drivers],
        )
