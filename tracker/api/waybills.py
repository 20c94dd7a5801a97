"""POST /v1/waybills: a carrier files the electronic waybill, with its approved route."""
from __future__ import annotations

from datetime import datetime

import orjson
from aiohttp import web

from streams.fix import ItemError, time_of, valid_plate
from streams.times import utc
from tracker.api.context import POOL, requires
from tracker.api.problems import Problem, error
from tracker.api.respond import json_bytes_response, read_json_object
from tracker.api.validate import check
from tracker.auth import ADMIN, GATEWAY, Principal
from tracker.db.references import lock_references


def _time(body: dict, field: str) -> datetime:
    try:
        return utc(time_of(body[field], field))
    except ItemError as exc:
        raise Problem(422, "the waybill has an unreadable time", [error(str(exc), field=field)]) from None


@requires(GATEWAY, ADMIN)
async def post_waybill(request: web.Request, principal: Principal) -> web.Response:
    body = check("waybill.schema.json", await read_json_object(request), "waybill")
    try:
        plate = valid_plate(body["plate"])
    except ItemError as exc:
        raise Problem(422, "the waybill names no vehicle plate", [error(str(exc), field="plate")]) from None
    valid_from, valid_to = _time(body, "valid_from"), _time(body, "valid_to")
    pool = request.app[POOL]
    carrier_id = await pool.fetchval("SELECT carrier_id FROM vehicles WHERE plate = $1", plate)
    if carrier_id is None:
        raise Problem(422, "unknown vehicle", [error(f"unknown plate {plate!r}", field="plate")])
    if principal.role == GATEWAY and carrier_id != principal.carrier_id:
        raise Problem(403, f"plate {plate!r} belongs to another carrier")
    problems = []
    if valid_to <= valid_from:
        problems.append(error("valid_to must be after valid_from", field="valid_to"))
    # Only the vehicle's own carrier's people, in the role they are registered for: a
    # gateway must not name another carrier's driver (nor learn whether one exists).
    people = {r["id"]: r for r in await pool.fetch(
        "SELECT id, carrier_id, roles FROM drivers WHERE id = ANY($1::text[])", [body["driver_id"], body["escort_id"]])}
    for field, role in (("driver_id", "driver"), ("escort_id", "escort")):
        person = people.get(body[field])
        if person is None or person["carrier_id"] != carrier_id:
            problems.append(error(f"{body[field]!r} is not a registered {role} of carrier {carrier_id!r}", field=field))
        elif role not in person["roles"]:
            problems.append(error(f"{body[field]!r} is registered as {', '.join(person['roles'])}, not {role}",
                                  field=field))
    coords = body["route"]["coordinates"]
    if all(c[:2] == coords[0][:2] for c in coords):
        problems.append(error("the route has no length (all positions equal)", field="route.coordinates"))
    if any(not (-180 <= c[0] <= 180 and -90 <= c[1] <= 90) for c in coords):
        problems.append(error("route positions are [lon, lat] within range", field="route.coordinates"))
    if problems:
        raise Problem(422, "the waybill is inconsistent", problems)
    async with pool.acquire() as conn, conn.transaction():
        await lock_references(conn)  # before the waybill's row: every reference writer queues here first
        owner = await conn.fetchval("SELECT carrier_id FROM waybills WHERE id = $1 FOR UPDATE", body["id"])
        if owner is not None and principal.role == GATEWAY and owner != principal.carrier_id:
            raise Problem(403, f"waybill {body['id']!r} belongs to another carrier")
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
    stored = dict(body, plate=plate)
    return json_bytes_response(stored, status=200 if owner is not None else 201)


def setup_waybills(app: web.Application) -> None:
    app.router.add_post("/v1/waybills", post_waybill)
