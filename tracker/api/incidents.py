"""POST/GET/PATCH /v1/incidents: the emergency bureau's incident desk (事故处置,
docs/incidents.md).

An incident is opened at a plate's last position (its waybill active now names the
cargo) or at a point; its zones, and the sites, vehicles and responders around it, are
computed by incidents.desk from the catalogue with the bureau's figures. Each change is
stored with its live geofences and its event in one transaction (tracker.db.incidents).
"""
from __future__ import annotations

import uuid
from functools import cache

import orjson
import shapely
from aiohttp import web

from geofence.gcj02 import geometry_to_gcj02, points_in
from geofence.metric import buffer_m
from incidents.desk import (
    CLOSED,
    OPENED,
    UPDATED,
    Site,
    Vehicle,
    cloud_event,
    compute,
    vehicle_list,
    zone_geofences,
    zones_of,
)
from incidents.hazard import un_key
from incidents.zones import rebuild
from streams.fix import ItemError, valid_plate
from streams.times import epoch_ms, now_ms, rfc3339
from streams.vocabulary import RESPONDER_KINDS
from tracker.api.context import POOL, TOPICS, requires
from tracker.api.hazards import catalogue
from tracker.api.page import STATIC
from tracker.api.problems import Problem, error
from tracker.api.query import next_cursor, parse_crs, query_choice, query_cursor, query_limit, query_time
from tracker.api.respond import json_bytes_response, read_json_object
from tracker.api.validate import check
from tracker.auth import ADMIN, AGENCY, OPERATOR, Principal, acting
from tracker.db import incidents, sites

DISTRICT_MARGIN_M = 2000  # the district's outline is approximate: incidents just outside it are still ours
ZONE_INPUTS = ("un_number", "spill", "wind_from_deg", "wind_speed_ms")


@cache
def district():
    """The district's outline grown by DISTRICT_MARGIN_M, prepared for point tests."""
    feature = orjson.loads((STATIC / "beilun_district.geojson").read_bytes())
    area = buffer_m(shapely.geometry.shape(feature["geometry"]), DISTRICT_MARGIN_M)
    shapely.prepare(area)
    return area


def _may_act(principal: Principal) -> None:
    if principal.role == AGENCY and principal.agency != "emergency":
        raise Problem(403, "only the emergency agency opens and changes incidents; other agencies read them")


def _sites(rows) -> list[Site]:
    """Sites with their geometries parsed in one vectorised call (thousands for a large zone)."""
    geometries = shapely.from_wkb([r["wkb"] for r in rows]) if rows else []
    return [Site(r["id"], r["kind"], r["name"], g) for r, g in zip(rows, geometries)]


def _vehicles(rows) -> list[Vehicle]:
    return [Vehicle(r["plate"], r["carrier_id"], r["un_number"], r["lat"], r["lon"], r["status"],
                    rfc3339(epoch_ms(r["last_ts"]))) for r in rows]


def _area(zones) -> bytes:
    """The zones as one WKB area: what PostGIS narrows the sites and vehicles to."""
    return shapely.to_wkb(zones.union())


async def _computed(conn, record: dict, inputs: dict, at_ms: int) -> tuple[dict, object]:
    """The Incident of `record` with `inputs` at `at_ms`, and its zones."""
    drawn = zones_of(inputs, await catalogue(conn), record["lon"], record["lat"], at_ms)
    area = _area(drawn[2])
    near = _sites(await sites.within(conn, area))
    responders = _sites(await sites.of_kinds(conn, RESPONDER_KINDS))
    vehicles = _vehicles(await incidents.vehicles_within(conn, area))
    return compute(record, drawn, near, responders, vehicles), drawn[2]


async def _place(pool, body: dict) -> tuple[float, float, str | None, str | None, str | None]:
    """(lat, lon, plate, carrier_id, waybill UN number) of where the incident is."""
    if "plate" not in body:
        lat, lon = body["lat"], body["lon"]
        if not district().contains(shapely.Point(lon, lat)):
            raise Problem(422, "the point is outside the district", [error("not in Beilun", field="lat")])
        return lat, lon, None, None, None
    try:
        plate = valid_plate(body["plate"])
    except ItemError as exc:
        raise Problem(422, str(exc), [error(str(exc), field="plate")]) from None
    found = await incidents.plate_now(pool, plate)
    if found is None:
        raise Problem(422, f"{plate} is not a registered vehicle", [error("unknown plate", field="plate")])
    if found["lat"] is None:
        raise Problem(422, f"{plate} has sent no position yet: give lat and lon",
                      [error("no position", field="plate")])
    return found["lat"], found["lon"], plate, found["carrier_id"], found["un_number"]


def _in_crs(incident: dict, crs: str) -> dict:
    """The Incident as answered in `crs`: for gcj02 its point and zones moved for Chinese
    basemaps (stored and announced in WGS-84 always)."""
    if crs != "gcj02":
        return incident
    (lon, lat), = points_in(crs, [incident["lon"]], [incident["lat"]])
    zones = {name: dict(zone, geometry=orjson.loads(shapely.to_geojson(
                 geometry_to_gcj02(shapely.from_geojson(orjson.dumps(zone["geometry"]))))))
             for name, zone in incident["zones"].items()}
    return dict(incident, lon=lon, lat=lat, zones=zones)


def _note(principal: Principal, text: str, at_ms: int) -> dict:
    return {"by": acting(principal), "at": rfc3339(at_ms), "text": text}


@requires(ADMIN, OPERATOR, AGENCY)
async def open_incident(request: web.Request, principal: Principal) -> web.Response:
    _may_act(principal)
    crs = parse_crs(request.rel_url.query.get("crs"))
    body = check("incident_request.schema.json", await read_json_object(request), "incident")
    pool, at = request.app[POOL], now_ms()
    lat, lon, plate, carrier_id, waybill_un = await _place(pool, body)
    inputs = {"kind": body["kind"], "spill": body.get("spill", "large"), "waybill_un_number": waybill_un,
              **{k: body[k] for k in ZONE_INPUTS if k in body and k != "spill"}}
    if "un_number" in inputs:
        inputs["un_number"] = un_key(inputs["un_number"])
    record = {"incident_id": f"i-{uuid.uuid4().hex[:20]}", "status": "open", "kind": body["kind"], "plate": plate,
              "carrier_id": carrier_id, "lat": lat, "lon": lon, "opened_at": rfc3339(at), "closed_at": None,
              "notes": [_note(principal, body["note"], at)] if "note" in body else []}
    async with pool.acquire() as conn, conn.transaction():
        await incidents.without_jit(conn)
        incident, zones = await _computed(conn, record, inputs, at)
        await incidents.insert(conn, incident, inputs, at, 1)
        await incidents.put_zones(conn, zone_geofences(incident, zones))
        await incidents.announce(conn, request.app[TOPICS].incidents, cloud_event(OPENED, 1, incident, rfc3339(at)))
    return json_bytes_response(_in_crs(incident, crs), status=201)


@requires(ADMIN, OPERATOR, AGENCY)
async def patch_incident(request: web.Request, principal: Principal) -> web.Response:
    _may_act(principal)
    crs = parse_crs(request.rel_url.query.get("crs"))
    body = check("incident_patch.schema.json", await read_json_object(request), "incident change")
    iid, at = request.match_info["id"], now_ms()
    async with request.app[POOL].acquire() as conn, conn.transaction():
        await incidents.without_jit(conn)
        row = await incidents.locked(conn, iid)
        if row is None:
            raise Problem(404, f"no incident {iid!r}")
        if row["status"] == "closed":
            raise Problem(409, f"incident {iid!r} is closed already")
        inputs = dict(row["inputs"], **{k: body[k] for k in ZONE_INPUTS if k in body})
        if "un_number" in body:
            inputs["un_number"] = un_key(body["un_number"])
        closing = body.get("status") == "closed"
        record = dict(row["incident"], status="closed" if closing else "open",
                      closed_at=rfc3339(at) if closing else None,
                      notes=row["incident"]["notes"] + ([_note(principal, body["note"], at)] if "note" in body else []))
        incident, zones = await _computed(conn, record, inputs, at)
        await incidents.update(conn, incident, inputs, at if closing else None, row["n"] + 1)
        if closing:
            await incidents.remove_zones(conn, iid)
        else:
            await incidents.put_zones(conn, zone_geofences(incident, zones))
        event = cloud_event(CLOSED if closing else UPDATED, row["n"] + 1, incident, rfc3339(at))
        await incidents.announce(conn, request.app[TOPICS].incidents, event)
    return json_bytes_response(_in_crs(incident, crs))


@requires(ADMIN, OPERATOR, AGENCY)
async def get_incident(request: web.Request, principal: Principal) -> web.Response:
    """The stored Incident; while it is open, its vehicles as they are now."""
    pool = request.app[POOL]
    row = await incidents.fetch(pool, request.match_info["id"])
    if row is None:
        raise Problem(404, f"no incident {request.match_info['id']!r}")
    incident = row["incident"]
    if incident["status"] == "open":
        zones = rebuild(incident["lon"], incident["lat"], incident["night"], incident["zones"])
        async with pool.acquire() as conn, conn.transaction(readonly=True):
            await incidents.without_jit(conn)
            vehicles = _vehicles(await incidents.vehicles_within(conn, _area(zones)))
        incident["vehicles"] = vehicle_list(zones, vehicles, incident["plate"])
    return json_bytes_response(_in_crs(incident, parse_crs(request.rel_url.query.get("crs"))))


@requires(ADMIN, OPERATOR, AGENCY)
async def list_incidents(request: web.Request, principal: Principal) -> web.Response:
    q = request.rel_url.query
    limit = query_limit(q)
    rows = await incidents.page(request.app[POOL], query_choice(q, "status", ("open", "closed")),
                                query_time(q, "since"), query_cursor(q), limit + 1)
    following = next_cursor(rows[limit - 1]["opened_at"], rows[limit - 1]["id"]) if len(rows) > limit else None
    crs = parse_crs(q.get("crs"))
    return json_bytes_response({"items": [_in_crs(r["incident"], crs) for r in rows[:limit]], "next": following})


def setup_incidents(app: web.Application) -> None:
    app.router.add_post("/v1/incidents", open_incident)
    app.router.add_get("/v1/incidents", list_incidents)
    app.router.add_get("/v1/incidents/{id}", get_incident)
    app.router.add_patch("/v1/incidents/{id}", patch_incident)
