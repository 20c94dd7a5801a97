"""PUT/DELETE/GET /v1/geofences: the safety office draws the zones the rules use.

Every change raises the geofence's `version`; a deletion keeps the row (deleted_at set)
so workers see deletions as one more version change.
"""
from __future__ import annotations

import asyncio

import orjson
import shapely
from aiohttp import web

from geofence.features import GeofenceError, check_feature
from geofence.gcj02 import geometry_to_gcj02
from geofence.index import DEFAULT_RESOLUTION, cover_feature
from streams.vocabulary import GEOFENCE_KINDS
from tracker.api.context import POOL, requires
from tracker.api.problems import Problem, error
from tracker.api.query import map_view, query_choice
from tracker.api.respond import json_bytes_response, read_json_object
from tracker.api.validate import check
from tracker.auth import ADMIN, OPERATOR, READERS, Principal
from tracker.db import geofences


def _feature(row, crs: str = "wgs84") -> dict:
    geometry = orjson.loads(row["geometry"])
    if crs == "gcj02":
        geometry = orjson.loads(shapely.to_geojson(geometry_to_gcj02(shapely.from_geojson(orjson.dumps(geometry)))))
    props = dict(row["properties"], kind=row["kind"], name=row["name"], active=row["active"], version=row["version"])
    return {"type": "Feature", "id": row["id"], "geometry": geometry, "properties": props}


@requires(ADMIN, OPERATOR)
async def put_geofence(request: web.Request, principal: Principal) -> web.Response:
    gid = request.match_info["id"]
    body = check("geofence_feature.schema.json", await read_json_object(request), "geofence")
    if "id" in body and str(body["id"]) != gid:
        raise Problem(422, "the Feature's id differs from the id in the path", [error("must equal the path id", field="id")])
    try:
        clean = await asyncio.to_thread(check_feature, body)  # validity of 50 000 positions takes a while
    except GeofenceError as exc:
        raise Problem(422, "the geofence is not usable", [error(p.message, field=p.field) for p in exc.problems]) from None
    props = clean["properties"]
    extra = {k: v for k, v in props.items() if k not in ("kind", "name", "active", "version")}
    cells = await asyncio.to_thread(cover_feature, clean["geometry"], props)  # once here, not at every worker start
    row = await geofences.put(request.app[POOL], gid, props["kind"], props["name"], props["active"], extra,
                              orjson.dumps(clean["geometry"]).decode(), DEFAULT_RESOLUTION, cells)
    if row is None:
        raise Problem(409, f"{gid!r} is an open incident's zone: the incident desk keeps it")
    return json_bytes_response(_feature(row), status=200 if row["existed"] else 201)


@requires(ADMIN, OPERATOR)
async def delete_geofence(request: web.Request, principal: Principal) -> web.Response:
    gid = request.match_info["id"]
    deleted = await geofences.delete(request.app[POOL], gid)
    if not deleted:
        raise Problem(404, f"no geofence {gid!r}")
    return web.Response(status=204)


@requires(*READERS)
async def get_geofences(request: web.Request, principal: Principal) -> web.Response:
    query = request.rel_url.query
    kind = query_choice(query, "kind", GEOFENCE_KINDS)
    bbox, crs = map_view(query)
    rows = await geofences.listed(request.app[POOL], kind, bbox)
    return json_bytes_response({"type": "FeatureCollection", "features": [_feature(r, crs) for r in rows]},
                               content_type="application/geo+json")


def setup_geofences(app: web.Application) -> None:
    app.router.add_put("/v1/geofences/{id}", put_geofence)
    app.router.add_delete("/v1/geofences/{id}", delete_geofence)
    app.router.add_get("/v1/geofences", get_geofences)
