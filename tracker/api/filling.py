"""POST /v1/filling-records: stations report each filling; the cross-check runs downstream.

A record for an unregistered plate is accepted, not refused: filling an unknown tanker is
exactly what market supervision must hear about, so it must reach the cross-check.
"""
from __future__ import annotations

from aiohttp import web

from schemas import validator
from streams.fix import ItemError, time_of, valid_plate, within_window
from streams.times import now_ms, rfc3339
from tracker.api.context import POOL, TOPICS, requires
from tracker.api.intake import publish_and_answer, read_items
from tracker.api.problems import Problem
from tracker.api.query import query_limit, query_time
from tracker.api.respond import json_bytes_response
from tracker.auth import ADMIN, OPERATOR, STATION, Principal
from tracker.db import filling
from tracker.intake.items import sort_items

SOURCE = "http/filling-records"


@requires(STATION, ADMIN)
async def post_filling_records(request: web.Request, principal: Principal) -> web.Response:
    items = await read_items(request, single_allowed=True)
    received_at = now_ms()

    def accept(item: dict) -> tuple[str, dict]:
        if principal.station_id is not None and item["station_id"] != principal.station_id:
            raise ItemError(f"station_id {item['station_id']!r} is another station's; this token speaks for "
                            f"{principal.station_id!r}")
        record = dict(item, plate=valid_plate(item["plate"]),
                      filled_at=within_window(time_of(item["filled_at"], "filled_at"), received_at, "filled_at"))
        record["received_at"] = received_at
        return record["plate"], record

    batch = sort_items(items, validator("filling_record.schema.json"), accept, SOURCE, received_at)
    return await publish_and_answer(request, "filling_record", request.app[TOPICS].filling, batch)


@requires(OPERATOR, ADMIN, STATION)
async def list_filling_records(request: web.Request, principal: Principal) -> web.Response:
    """Records with their check results, newest first; a station sees only its own."""
    q = request.rel_url.query
    station_id = q.get("station_id")  # bounded by the parameter check
    if principal.role == STATION:
        if station_id not in (None, principal.station_id):
            raise Problem(403, f"this token speaks for station {principal.station_id!r} only")
        station_id = principal.station_id
    limit = query_limit(q)
    rows = await filling.listed(request.app[POOL], station_id, query_time(q, "since"), query_time(q, "until"), limit)
    items = [dict(r["record"], filled_at=rfc3339(r["record"]["filled_at"]),
                  received_at=rfc3339(r["record"]["received_at"]), checks=r["checks"]) for r in rows]
    return json_bytes_response({"items": items})


def setup_filling(app: web.Application) -> None:
    app.router.add_post("/v1/filling-records", post_filling_records)
    app.router.add_get("/v1/filling-records", list_filling_records)
