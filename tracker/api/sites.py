"""PUT/DELETE/GET /v1/sites: the places an incident's zones are checked against
(schools, hospitals, residential areas) and the responders (fire stations, enterprise
fire teams), kept by the safety office and read by the agencies (docs/incidents.md)."""
from __future__ import annotations

import orjson
import shapely
from aiohttp import web

from geofence.features import shape_problems
from geofence.gcj02 import geometry_to_gcj02
from streams.times import epoch_ms, rfc3339
from streams.vocabulary import SITE_KINDS
from tracker.api.context import POOL, requires
from tracker.api.problems import Problem, error
from tracker.api.query import map_view, query_choice
from tracker.api.respond import json_bytes_response, read_json_object
from tracker.api.validate import check
from tracker.auth import ADMIN, AGENCY, OPERATOR, Principal
from tracker.db import sites


def _feature(row, crs: str = "wgs84") -> dict:
    geometry = orjson.loads(row["geometry"])
    if crs == "gcj02":
        geometry = orjson.loads(shapely.to_geojson(geometry_to_gcj02(shapely.from_geojson(row["geometry"]))))
    props = dict(row["properties"], kind=row["kind"], name=row["name"], updated_at=rfc3339(epoch_ms(row["updated_at"])))
    return {"type": "Feature", "id": row["id"], "geometry": geometry, "properties": props}


@requires(ADMIN, OPERATOR)
async def put_site(request: web.Request, principal: Principal) -> web.Response:
    sid = request.match_info["id"]
    body = check("site_feature.schema.json", await read_json_object(request), "site")
    if "id" in body and body["id"] != sid:
        raise Problem(422, "the Feature's id differs from the id in the path", [error("must equal the path id", field="id")])
    geometry, problems = shape_problems(body["geometry"])
    if problems:
        raise Problem(422, "the site's geometry is not usable", [error(p.message, field=p.field) for p in problems])
    props = {k: v for k, v in body["properties"].items() if k not in ("kind", "name", "updated_at")}
    row = await sites.put(request.app[POOL], sid, body["properties"]["kind"], body["properties"]["name"], props,
                          orjson.dumps(geometry).decode())
    return json_bytes_response(_feature(row), status=200 if row["existed"] else 201)


@requires(ADMIN, OPERATOR)
async def delete_site(request: web.Request, principal: Principal) -> web.Response:
    if not await sites.delete(request.app[POOL], request.match_info["id"]):
        raise Problem(404, f"no site {request.match_info['id']!r}")
    return web.Response(status=204)


@requires(ADMIN, OPERATOR, AGENCY)
async def get_sites(request: web.Request, principal: Principal) -> web.Response:
    query = request.rel_url.query
    kind = query_choice(query, "kind", SITE_KINDS)
    bbox, crs = map_view(query)
    rows = await sites.listed(request.app[POOL], kind, bbox)
    return json_bytes_response({"type": "FeatureCollection", "features": [_feature(r, crs) for r in rows]},
                               content_type="application/geo+json")


def setup_sites(app: web.Application) -> None:
    app.router.add_put("/v1/sites/{id}", put_site)
    app.router.add_delete("/v1/sites/{id}", delete_site)
    app.router.add_get("/v1/sites", get_sites)
