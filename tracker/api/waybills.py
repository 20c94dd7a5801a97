"""POST /v1/waybills: a carrier files the electronic waybill, with its approved route."""
from __future__ import annotations

from datetime import datetime

from aiohttp import web

from streams.fix import ItemError, time_of, valid_plate
from streams.times import utc
from tracker.api.context import POOL, requires
from tracker.api.problems import Problem, error
from tracker.api.respond import json_bytes_response, read_json_object
from tracker.api.validate import check
from tracker.auth import ADMIN, GATEWAY, Principal
from tracker.db import registry, waybills


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
    carrier_id = await registry.carrier_of(pool, plate)
    if carrier_id is None:
        raise Problem(422, "unknown vehicle", [error(f"unknown plate {plate!r}", field="plate")])
    if principal.role == GATEWAY and carrier_id != principal.carrier_id:
        raise Problem(403, f"plate {plate!r} belongs to another carrier")
    problems = []
    if valid_to <= valid_from:
        problems.append(error("valid_to must be after valid_from", field="valid_to"))
    # Only the vehicle's own carrier's people, in the role they are registered for: a
    # gateway must not name another carrier's driver (nor learn whether one exists).
    people = await registry.people(pool, [body["driver_id"], body["escort_id"]])
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
    try:
        owner = await waybills.upsert(pool, body, plate, carrier_id, valid_from, valid_to,
                                      None if principal.role != GATEWAY else principal.carrier_id)
    except waybills.ForeignWaybill:
        raise Problem(403, f"waybill {body['id']!r} belongs to another carrier") from None
    stored = dict(body, plate=plate)
    return json_bytes_response(stored, status=200 if owner is not None else 201)


def setup_waybills(app: web.Application) -> None:
    app.router.add_post("/v1/waybills", post_waybill)
