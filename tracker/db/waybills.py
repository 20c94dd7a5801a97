"""Waybills: the electronic waybill with its approved route (references for the rules)."""
from __future__ import annotations

from datetime import datetime

import asyncpg
import orjson

from tracker.db.references import lock_references


class ForeignWaybill(Exception):
    """The waybill id is taken by another carrier's waybill."""


async def upsert(pool: asyncpg.Pool, body: dict, plate: str, carrier_id: str, valid_from: datetime,
                 valid_to: datetime, only_carrier: str | None) -> str | None:
    """Store the waybill; returns the carrier of the one it replaced (None: new). With
    `only_carrier`, a waybill of the same id filed by another carrier is not replaced."""
    async with pool.acquire() as conn, conn.transaction():
        await lock_references(conn)  # before the waybill's row: every reference writer queues here first
        owner = await conn.fetchval("SELECT carrier_id FROM waybills WHERE id = $1 FOR UPDATE", body["id"])
        if owner is not None and only_carrier is not None and owner != only_carrier:
            raise ForeignWaybill(body["id"])
        await conn.execute(
            """INSERT INTO waybills (id, plate, carrier_id, driver_id, escort_id, un_number, hazard_class,
                                     quantity_kg, origin, destination, route, valid_from, valid_to)
               VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, ST_SetSRID(ST_Force2D(ST_GeomFromGeoJSON($11)), 4326), $12, $13)
               ON CONFLICT (id) DO UPDATE SET plate = EXCLUDED.plate, carrier_id = EXCLUDED.carrier_id,
                 driver_id = EXCLUDED.driver_id, escort_id = EXCLUDED.escort_id, un_number = EXCLUDED.un_number,
                 hazard_class = EXCLUDED.hazard_class, quantity_kg = EXCLUDED.quantity_kg,
                 origin = EXCLUDED.origin, destination = EXCLUDED.destination, route = EXCLUDED.route,
                 valid_from = EXCLUDED.valid_from, valid_to = EXCLUDED.valid_to, updated_at = now()""",
            body["id"], plate, carrier_id, body["driver_id"], body["escort_id"], body["un_number"],
            body["hazard_class"], body["quantity_kg"], body["origin"], body["destination"],
            orjson.dumps(body["route"]).decode(), valid_from, valid_to,
        )
    return owner
