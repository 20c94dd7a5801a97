"""PUT /v1/registry: upsert carriers, vehicles and drivers in one transaction."""
from __future__ import annotations

import asyncpg
from aiohttp import web

from streams.fix import ItemError, valid_plate
from tracker.api.context import FLEET, POOL, requires
from tracker.api.problems import Problem, error
from tracker.api.respond import json_bytes_response, read_json_object
from tracker.api.validate import check
from tracker.auth import ADMIN, Principal
from tracker.db import registry


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
    problems = _consistency_errors(body, await registry.carrier_ids(pool))
    if problems:
        raise Problem(422, "the registry refers to what it does not hold", problems)
    carriers, vehicles, drivers = body.get("carriers", []), body.get("vehicles", []), body.get("drivers", [])
    try:
        await registry.upsert(pool, carriers, vehicles, drivers)
    except asyncpg.UniqueViolationError as exc:
        raise Problem(409, f"the registry conflicts with what is stored: {exc.detail or exc}") from None
    await request.app[FLEET].reload()
    return json_bytes_response({"carriers": len(carriers), "vehicles": len(vehicles), "drivers": len(drivers)})


def setup_registry(app: web.Application) -> None:
    app.router.add_put("/v1/registry", put_registry)
