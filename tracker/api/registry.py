"""PUT /v1/registry: upsert carriers, vehicles and drivers in one transaction."""
from __future__ import annotations

from datetime import date

import asyncpg
from aiohttp import web

from streams.fix import ItemError, valid_plate
from tracker.api.context import FLEET, POOL, requires
from tracker.api.problems import Problem, error
from tracker.api.respond import json_bytes_response, read_json_object
from tracker.api.validate import check
from tracker.auth import ADMIN, Principal


def _consistency_errors(body: dict, known_carriers: set[str]) -> list[dict]:
    carriers = known_carriers | {c["id"] for c in body.get("carriers", [])}
    problems = []
    seen: dict[str, int] = {}
    for i, vehicle in enumerate(body.get("vehicles", [])):
        if vehicle["carrier_id"] not in carriers:
            problems.append(error(f"unknown carrier {vehicle['carrier_id']!r}", index=i, field="vehicles.carrier_id"))
        try:
            plate = valid_plate(vehicle["plate"])
        except ItemError as exc:
            problems.append(error(str(exc), index=i, field="vehicles.plate"))
            continue
        if plate in seen:
            problems.append(error(f"plate {plate!r} also at vehicles[{seen[plate]}]", index=i, field="vehicles.plate"))
        seen[plate] = i
    for i, driver in enumerate(body.get("drivers", [])):
        if driver["carrier_id"] not in carriers:
            problems.append(error(f"unknown carrier {driver['carrier_id']!r}", index=i, field="drivers.carrier_id"))
    return problems


@requires(ADMIN)
async def put_registry(request: web.Request, principal: Principal) -> web.Response:
    body = check("registry.schema.json", await read_json_object(request), "registry")
    pool = request.app[POOL]
    known = {r["id"] for r in await pool.fetch("SELECT id FROM carriers")}
    problems = _consistency_errors(body, known)
    if problems:
        raise Problem(422, "the registry refers to what it does not hold", problems)
    carriers, vehicles, drivers = body.get("carriers", []), body.get("vehicles", []), body.get("drivers", [])
    try:
        await _upsert(pool, carriers, vehicles, drivers)
    except asyncpg.UniqueViolationError as exc:
        raise Problem(409, f"the registry conflicts with what is stored: {exc.detail or exc}") from None
    await request.app[FLEET].reload()
    return json_bytes_response({"carriers": len(carriers), "vehicles": len(vehicles), "drivers": len(drivers)})


async def _upsert(pool: asyncpg.Pool, carriers: list, vehicles: list, drivers: list) -> None:
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


def setup_registry(app: web.Application) -> None:
    app.router.add_put("/v1/registry", put_registry)
