"""GET /v1/vehicles/{plate}/trips and /stops: a vehicle's local day as the rules saw it
(stops by the rules' own definition, tracker.reports.trips), with the geofence each
start and end was in."""
from __future__ import annotations

from datetime import timedelta

from aiohttp import web

from streams.times import rfc3339
from tracker.api.context import POOL, SETTINGS, requires
from tracker.api.problems import Problem, error
from tracker.api.query import query_plate
from tracker.api.respond import json_bytes_response
from tracker.auth import ADMIN, OPERATOR, Principal
from tracker.db.trips import geofences_at, track
from tracker.reports.definitions import PeriodError, period
from tracker.reports.trips import Leg, stops_and_trips

# Legs overlapping the day are reported whole: the track is read from a day before to a
# day after, so a night's stop shows when it really began and ended (one longer than that
# margin shows from the first fix read).
MARGIN = timedelta(days=1)


def _place(point: tuple[float, float], geofence_id: str | None) -> dict:
    return {"lat": point[0], "lon": point[1], "geofence_id": geofence_id}


async def _items(request: web.Request, which: int) -> web.Response:
    plate = query_plate(request.match_info["plate"])
    try:
        day = period("day", request.rel_url.query.get("date", ""))
    except PeriodError as exc:
        raise Problem(400, str(exc), [error(str(exc), field="date")]) from None
    pool = request.app[POOL]
    if await pool.fetchval("SELECT 1 FROM vehicles WHERE plate = $1", plate) is None:
        raise Problem(404, f"no vehicle {plate!r}")
    fixes = await track(pool, plate, day.start - MARGIN, day.end + MARGIN)
    legs: list[Leg] = stops_and_trips(fixes, request.app[SETTINGS].rules)[which]
    start_ms, end_ms = int(day.start.timestamp() * 1000), int(day.end.timestamp() * 1000)
    legs = [leg for leg in legs if leg.overlaps(start_ms, end_ms)]
    zones = await geofences_at(pool, [p for leg in legs for p in (leg.origin, leg.destination)])
    items = [{"start": rfc3339(leg.start), "end": rfc3339(leg.end), "duration_s": (leg.end - leg.start) / 1000,
              "distance_m": round(leg.distance_m, 1), "from": _place(leg.origin, zones[2 * i]),
              "to": _place(leg.destination, zones[2 * i + 1])}
             for i, leg in enumerate(legs)]
    return json_bytes_response({"plate": plate, "date": day.label, "items": items})


@requires(ADMIN, OPERATOR)
async def get_stops(request: web.Request, principal: Principal) -> web.Response:
    return await _items(request, 0)


@requires(ADMIN, OPERATOR)
async def get_trips(request: web.Request, principal: Principal) -> web.Response:
    return await _items(request, 1)


def setup_trips(app: web.Application) -> None:
    app.router.add_get("/v1/vehicles/{plate}/stops", get_stops)
    app.router.add_get("/v1/vehicles/{plate}/trips", get_trips)
