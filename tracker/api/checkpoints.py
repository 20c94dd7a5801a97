"""Checkpoint cameras (卡口抓拍): PUT/GET /v1/checkpoints, POST /v1/plate-reads (through the
shared intake, to hazmat.plate_reads.v1) and GET /v1/vehicles/{plate}/reads."""
from __future__ import annotations

from aiohttp import web

from checkpoints.reads import normalise_read
from geofence.gcj02 import points_in
from schemas import validator
from streams.times import epoch_ms, now_ms, rfc3339, utc
from tracker.api.context import POOL, TOPICS, requires
from tracker.api.intake import publish_and_answer, read_items
from tracker.api.problems import Problem, error
from tracker.api.query import map_view, query_limit, query_plate, query_time
from tracker.api.respond import json_bytes_response, read_json_object
from tracker.api.validate import check
from tracker.auth import ADMIN, CAMERA, OPERATOR, READERS, Principal
from tracker.db import checkpoints
from tracker.intake.items import sort_items

SOURCE = "http/plate-reads"
MAX_READS = 1000  # a request's reads (docs/api.md "Checkpoint cameras")


def _feature(row, crs: str = "wgs84") -> dict:
    # the optional properties only when given: the Feature answers as it was put
    props = {k: row[k] for k in ("name", "road", "direction_deg") if row[k] is not None}
    return {"type": "Feature", "id": row["id"], "properties": props,
            "geometry": {"type": "Point", "coordinates": points_in(crs, [row["lon"]], [row["lat"]])[0]}}


@requires(ADMIN, OPERATOR)
async def put_checkpoint(request: web.Request, principal: Principal) -> web.Response:
    cid = request.match_info["id"]
    body = check("checkpoint_feature.schema.json", await read_json_object(request), "checkpoint")
    if "id" in body and str(body["id"]) != cid:
        raise Problem(422, "the Feature's id differs from the id in the path", [error("must equal the path id", field="id")])
    lon, lat = body["geometry"]["coordinates"][:2]
    if lat == 0 and lon == 0:
        raise Problem(422, "(0, 0) is not a checkpoint's place", [error("not (0, 0)", field="geometry")])
    props = body["properties"]
    row = await checkpoints.put(request.app[POOL], cid, props["name"], props.get("road"), props.get("direction_deg"),
                                lat, lon)
    return json_bytes_response(_feature(row), status=200 if row["existed"] else 201)


@requires(*READERS)
async def get_checkpoints(request: web.Request, principal: Principal) -> web.Response:
    bbox, crs = map_view(request.rel_url.query)
    rows = await checkpoints.listed(request.app[POOL], bbox)
    return json_bytes_response({"type": "FeatureCollection", "features": [_feature(r, crs) for r in rows]},
                               content_type="application/geo+json")


@requires(CAMERA, ADMIN)
async def post_plate_reads(request: web.Request, principal: Principal) -> web.Response:
    items = await read_items(request, single_allowed=True)
    if len(items) > MAX_READS:
        raise Problem(413, f"{len(items)} reads in one request; the limit is {MAX_READS}")
    pool = request.app[POOL]
    schema = validator("plate_read.schema.json")
    # only the ids of reads that are reads reach the database (a NUL in an id is a 400 item, not a 500)
    named = {i["checkpoint_id"] for i in items if isinstance(i, dict) and schema.is_valid(i)}
    known = await checkpoints.known(pool, sorted(named))
    received_at = now_ms()
    own = frozenset(h for h in (request.url.host, request.host.rsplit(":", 1)[0]) if h)

    def accept(item: dict) -> tuple[str, dict]:
        read = normalise_read(item, checkpoint_of_token=principal.checkpoint_id, known_checkpoint=known.__contains__,
                              own_hosts=frozenset(h.lower() for h in own), now_ms=received_at)
        return read["plate"], read

    batch = sort_items(items, schema, accept, SOURCE, received_at)
    return await publish_and_answer(request, "plate_read", request.app[TOPICS].plate_reads, batch)


@requires(ADMIN, OPERATOR)
async def get_reads(request: web.Request, principal: Principal) -> web.Response:
    """A vehicle's reads of [from, to), newest first, with the checkpoint's name and whether a
    fix matched (null while undecided or for a read that is not checked)."""
    q = request.rel_url.query
    plate = query_plate(request.match_info["plate"])
    until = query_time(q, "to") or utc(now_ms() + 3600_000)
    since = query_time(q, "from") or utc(epoch_ms(until) - 7 * 86_400_000)
    if not since < until:
        raise Problem(400, "from must be before to", [error("before to", field="from")])
    rows = await checkpoints.reads_of(request.app[POOL], plate, since, until, query_limit(q, 1000, 1000))
    items = [dict(r["read"], ts=rfc3339(r["read"]["ts"]), received_at=rfc3339(r["read"]["received_at"]),
                  checkpoint_name=r["checkpoint_name"], matched=r["matched"]) for r in rows]
    return json_bytes_response({"items": items})


def setup_checkpoints(app: web.Application) -> None:
    app.router.add_put("/v1/checkpoints/{id}", put_checkpoint)
    app.router.add_get("/v1/checkpoints", get_checkpoints)
    app.router.add_post("/v1/plate-reads", post_plate_reads)
    app.router.add_get("/v1/vehicles/{plate}/reads", get_reads)
