"""GET /v1/vehicles, /v1/vehicles/{plate} and /v1/vehicles/{plate}/track: what the safety
office's map draws.

Latest positions come from the workers' vehicle states (one row a vehicle, written with
each batch), so the map shows what the rules saw, with the violations they hold open.
Headings come from the newest stored position beside it: the rules' state does not keep
them, and one join per request costs less than one more field per fix in the worker.
"""
from __future__ import annotations

from aiohttp import web

from geofence.gcj02 import points_in
from streams.fix import MAX_AGE_MS
from streams.times import epoch_ms, now_ms, rfc3339, utc
from streams.vocabulary import STATUSES
from tracker.api.context import POOL, SETTINGS, requires
from tracker.api.problems import Problem, error
from tracker.api.query import map_view, parse_crs, query_choice, query_plate, query_time
from tracker.api.respond import json_bytes_response
from tracker.api.terminals import terminal_item
from tracker.auth import ADMIN, OPERATOR, Principal
from tracker.db import registry, terminals, vehicles
from tracker.db.handling import with_handling

TRACK_DEFAULT_MS = 24 * 3600_000
# As far back as the intake accepts fixes; a longer track is several requests.
TRACK_MOST_MS = MAX_AGE_MS


async def _positions(pool, crs: str, carrier_id: str | None = None, status: str | None = None, bbox=None,
                     plate: str | None = None) -> list[dict]:
    rows = await vehicles.latest(pool, carrier_id, status, bbox, plate)
    points = points_in(crs, [r["lon"] for r in rows], [r["lat"] for r in rows])
    return [{"type": "Feature", "id": r["plate"], "geometry": {"type": "Point", "coordinates": point},
             "properties": {"plate": r["plate"], "carrier_id": r["carrier_id"],
                            "carrier_name": r["carrier_name"], "ts": rfc3339(epoch_ms(r["last_ts"])),
                            "speed_kmh": r["speed_kmh"], "heading_deg": r["heading_deg"], "status": r["status"],
                            "open_violations": r["open_violations"]}}
            for r, point in zip(rows, points)]


@requires(ADMIN, OPERATOR)
async def list_vehicles(request: web.Request, principal: Principal) -> web.Response:
    q = request.rel_url.query
    status = query_choice(q, "status", STATUSES)
    bbox, crs = map_view(q)
    features = await _positions(request.app[POOL], crs, q.get("carrier_id"), status, bbox)
    return json_bytes_response({"type": "FeatureCollection", "features": features}, content_type="application/geo+json")


@requires(ADMIN, OPERATOR)
async def get_vehicle(request: web.Request, principal: Principal) -> web.Response:
    """One vehicle for the console's details panel: the registry's facts, its carrier, the
    latest position (null before its first fix), the waybill active now, its open
    violations with their handling, and its JT/T 808 terminal (null without one)."""
    plate = query_plate(request.match_info["plate"])
    crs = parse_crs(request.rel_url.query.get("crs"))
    pool = request.app[POOL]
    row = await vehicles.registered(pool, plate)
    if row is None:
        raise Problem(404, f"no vehicle {plate!r}")
    waybill = await vehicles.active_waybill(pool, plate)
    open_rows = await vehicles.open_violations(pool, plate)
    violations = [with_handling(r) for r in open_rows]
    moved = points_in(crs, [v["lon"] for v in violations], [v["lat"] for v in violations])
    for v, (lon, lat) in zip(violations, moved):
        v["lon"], v["lat"] = lon, lat
    position = await _positions(pool, crs, plate=plate)
    terminal = await terminals.listed(pool, request.app[SETTINGS].jt808.idle_s, plate=plate)
    return json_bytes_response({
        "plate": row["plate"], "carrier": {"id": row["carrier_id"], "name": row["carrier_name"]},
        "tank_capacity_kg": row["tank_capacity_kg"], "hazard_classes": row["hazard_classes"],
        "permit_valid_until": row["permit_valid_until"].isoformat(),
        "tank_inspection_valid_until": row["tank_inspection_valid_until"].isoformat(),
        "position": position[0] if position else None,
        "active_waybill": None if waybill is None else {
            "id": waybill["id"], "un_number": waybill["un_number"], "hazard_class": waybill["hazard_class"],
            "quantity_kg": waybill["quantity_kg"], "driver_id": waybill["driver_id"], "escort_id": waybill["escort_id"],
            "origin": waybill["origin"], "destination": waybill["destination"],
            "valid_from": rfc3339(epoch_ms(waybill["valid_from"])), "valid_to": rfc3339(epoch_ms(waybill["valid_to"]))},
        "open_violations": violations,
        "terminal": terminal_item(terminal[0]) if terminal else None,
    })


@requires(ADMIN, OPERATOR)
async def get_track(request: web.Request, principal: Principal) -> web.Response:
    """The stored fixes of [from, to) in time order: a LineString from two fixes on, a Point
    for one, no geometry for none (GeoJSON has no one-point LineString)."""
    q = request.rel_url.query
    plate = query_plate(request.match_info["plate"])
    until = query_time(q, "to") or utc(now_ms())
    since = query_time(q, "from") or utc(epoch_ms(until) - TRACK_DEFAULT_MS)
    if not since < until:
        raise Problem(400, "from must be before to", [error("before to", field="from")])
    if epoch_ms(until) - epoch_ms(since) > TRACK_MOST_MS:
        days = TRACK_MOST_MS // 86_400_000
        raise Problem(400, f"a track spans at most {days} days", [error(f"at most {days} days before to", field="from")])
    crs = parse_crs(q.get("crs"))
    pool = request.app[POOL]
    if not await registry.vehicle_exists(pool, plate):
        raise Problem(404, f"no vehicle {plate!r}")
    rows = await vehicles.track(pool, plate, since, until)
    coordinates = points_in(crs, [r["lon"] for r in rows], [r["lat"] for r in rows])
    geometry = ({"type": "LineString", "coordinates": coordinates} if len(rows) > 1
                else {"type": "Point", "coordinates": coordinates[0]} if rows else None)
    properties = {"plate": plate, "from": rfc3339(epoch_ms(since)), "to": rfc3339(epoch_ms(until)),
                  "times": [rfc3339(epoch_ms(r["ts"])) for r in rows], "speed_kmh": [r["speed_kmh"] for r in rows]}
    return json_bytes_response({"type": "Feature", "id": plate, "geometry": geometry, "properties": properties},
                               content_type="application/geo+json")


def setup_vehicles(app: web.Application) -> None:
    app.router.add_get("/v1/vehicles", list_vehicles)
    app.router.add_get("/v1/vehicles/{plate}", get_vehicle)
    app.router.add_get("/v1/vehicles/{plate}/track", get_track)
