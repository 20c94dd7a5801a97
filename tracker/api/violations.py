"""GET /v1/violations and /v1/violations/{id}: newest first, keyset-paginated, each
with its handling (报警处置).

An agency token sees only violations routed to its agency.
"""
from __future__ import annotations

from aiohttp import web

from geofence.gcj02 import points_in
from streams.vocabulary import VIOLATION_KINDS
from tracker.api.context import POOL, requires
from tracker.api.problems import Problem
from tracker.api.query import (
    next_cursor,
    parse_bbox,
    parse_crs,
    query_choice,
    query_cursor,
    query_limit,
    query_plate,
    query_time,
)
from tracker.api.respond import json_bytes_response
from tracker.auth import ADMIN, AGENCY, OPERATOR, Principal
from tracker.db.handling import HANDLING_STATES, SELECT, fetch_violation, with_handling


@requires(ADMIN, OPERATOR, AGENCY)
async def list_violations(request: web.Request, principal: Principal) -> web.Response:
    q = request.rel_url.query
    kind, status = query_choice(q, "kind", VIOLATION_KINDS), query_choice(q, "status", ("open", "closed"))
    handling = query_choice(q, "handling", HANDLING_STATES)
    limit = query_limit(q)
    bbox = parse_bbox(q.get("bbox"))
    crs = parse_crs(q.get("crs"))  # of the answer's lat/lon (bbox is WGS-84, as everywhere)
    cursor = query_cursor(q)
    rows = await request.app[POOL].fetch(
        f"""{SELECT}
            WHERE ($1::text IS NULL OR plate = $1) AND ($2::text IS NULL OR kind = $2)
              AND ($3::text IS NULL OR status = $3) AND ($4::timestamptz IS NULL OR started_at >= $4)
              AND ($5::timestamptz IS NULL OR started_at < $5)
              AND ($6::float8[] IS NULL OR (lon BETWEEN $6[1] AND $6[3] AND lat BETWEEN $6[2] AND $6[4]))
              AND ($7::text IS NULL OR $7 = ANY(agencies))
              AND ($8::timestamptz IS NULL OR (started_at, violation_id) < ($8, $9::text))
              AND ($11::text IS NULL OR coalesce(h.state, 'new') = $11)
            ORDER BY started_at DESC, violation_id DESC LIMIT $10""",
        query_plate(q.get("plate")), kind, status, query_time(q, "since"), query_time(q, "until"),
        list(bbox) if bbox else None, principal.agency if principal.role == AGENCY else None,
        cursor[0] if cursor else None, cursor[1] if cursor else None, limit + 1, handling)
    items = [with_handling(r) for r in rows[:limit]]
    if crs == "gcj02":
        moved = points_in(crs, [v["lon"] for v in items], [v["lat"] for v in items])
        for v, (lon, lat) in zip(items, moved):
            v["lon"], v["lat"] = lon, lat
    following = None
    if len(rows) > limit:
        last = rows[limit - 1]
        following = next_cursor(last["started_at"], last["violation_id"])
    return json_bytes_response({"items": items, "next": following})


@requires(ADMIN, OPERATOR, AGENCY)
async def get_violation(request: web.Request, principal: Principal) -> web.Response:
    violation = await fetch_violation(request.app[POOL], request.match_info["id"])
    if violation is None or (principal.role == AGENCY and principal.agency not in violation["agencies"]):
        raise Problem(404, f"no violation {request.match_info['id']!r}")
    return json_bytes_response(violation)


def setup_violations(app: web.Application) -> None:
    app.router.add_get("/v1/violations", list_violations)
    app.router.add_get("/v1/violations/{id}", get_violation)
