"""Issue 15, point 1: references written right after start are used from the first fix.

A worker starts on an empty database (as `hazmat up` does); at once, without waiting for
anything, geofences of every kind and a waybill are written through the API, and the
fixes that need them follow within the contract's bound. The verdicts must be those of
references known from the start: no stop in a lot, park or station is illegal, the
restricted road, the no-stopping zone and the route deviation are seen, and 75 km/h on
the expressway is not speeding."""
from __future__ import annotations

import asyncio
import math
import time

import pytest
import shapely

from streams.times import rfc3339
from tests.client import Api, ApiTestServer, fleet_body
from tests.scenario import M_LAT, M_LON
from tests.waiting import until
from tracker.api.app import create_app
from tracker.api.context import POOL
from tracker.auth import ADMIN, insert_token, new_token
from tracker.serve import create_topics, worker_running

pytestmark = pytest.mark.integration

LAT0, LON0 = 29.86, 121.70
MINUTE = 60_000
JUDGED = {"illegal_parking", "no_stopping", "restricted_road", "route_deviation", "speeding"}

# Per vehicle, segments of (minutes, speed km/h, metres north of its lane, label); a fix
# every 30 s. Stops scatter up to 15 m around their place, as parked GPS does.
PLANS = [
    # parks 20 min at the edge of a lot (fixes on both sides), then 20 min in a park
    [(4, 40, 0, ""), (20, 0, 0, "lot"), (4, 40, 0, ""), (20, 0, 0, "park"), (2, 40, 0, "")],
    # 75 km/h on an expressway (80 km/h zone), then 20 min at a filling station
    [(10, 75, 0, "expressway"), (20, 0, 0, "station"), (2, 40, 0, "")],
    # through a road closed all week, then 5 min in a no-stopping zone
    [(4, 30, 0, ""), (4, 30, 0, "closed road"), (4, 30, 0, ""), (5, 0, 0, "no stopping"), (4, 30, 0, "")],
    # on a waybill along its lane, strays 1 km north for 5 min
    [(10, 40, 0, ""), (5, 40, 1000, ""), (10, 40, 0, "")],
]
EXPECTED = [set(), set(), {"restricted_road", "no_stopping"}, {"route_deviation"}]


def trip(plate: str, lane: int, plan, t0: int):
    fixes, marks, east, step = [], {}, 0.0, 0
    for minutes, speed, north, label in plan:
        for _ in range(minutes * 2):
            scatter = 15.0 * math.sin(step * 1.3) if speed == 0 else 0.0
            lat = LAT0 + (lane * 3000 + north + scatter) * M_LAT
            lon = LON0 + (east + 15.0 * math.cos(step * 0.7) if speed == 0 else east) * M_LON
            fixes.append({"plate": plate, "ts": t0 + step * 30_000, "lat": lat, "lon": lon,
                          "speed_kmh": float(speed), "heading_deg": 90.0})
            if label:
                marks.setdefault(label, []).append((LON0 + east * M_LON, LAT0 + (lane * 3000 + north) * M_LAT))
            east += speed * 1000 / 120
            step += 1
    return fixes, marks


def box(points, margin_m: float, east_cut_m: float | None = None) -> dict:
    xs, ys = [p[0] for p in points], [p[1] for p in points]
    east = max(xs) + margin_m * M_LON if east_cut_m is None else min(xs) + east_cut_m * M_LON
    return shapely.geometry.mapping(shapely.box(min(xs) - margin_m * M_LON, min(ys) - margin_m * M_LAT,
                                                east, max(ys) + margin_m * M_LAT))


async def test_references_written_right_after_start_judge_the_first_fixes(aiohttp_client, own_database):
    """On a database of its own: its geofences must not reach other tests' workers."""
    settings = own_database
    await create_topics(settings)
    client = await aiohttp_client(ApiTestServer(create_app(settings)))
    token = new_token()
    await insert_token(client.app[POOL], token, ADMIN, "test admin")
    api = Api(client, token)
    async with worker_running(settings):
        await _scenario(api)


async def _scenario(api) -> None:
    fleet, body = fleet_body()
    await api.json("PUT", "/v1/registry", api.admin_token, expect=200, json=body)
    vehicles = [(c, p) for c in fleet.carriers for p in fleet.plates[c]]
    t0 = (int(time.time() * 1000) // MINUTE - 60) * MINUTE
    trips = [trip(p, lane, plan, t0) for lane, ((_, p), plan) in enumerate(zip(vehicles, PLANS))]
    (lot_stop, park_stop), station_stop = (trips[0][1]["lot"], trips[0][1]["park"]), trips[1][1]["station"]
    lon, lat = station_stop[0]
    features = {
        # the stop's place is the lot's east edge: a third of its fixes fall outside
        "lot": ({"kind": "parking", "name": "停车场"}, box(lot_stop, 60, east_cut_m=5)),
        "park": ({"kind": "chem_park", "name": "化工园区"}, box(park_stop, 200)),
        "station": ({"kind": "filling_station", "name": "加气站", "radius_m": 60, "station_id": "S1"},
                    {"type": "Point", "coordinates": [lon, lat]}),
        "expressway": ({"kind": "speed_zone", "name": "高速", "speed_limit_kmh": 80},
                       box(trips[1][1]["expressway"], 40)),
        "closed": ({"kind": "restricted_road", "name": "禁行路段",
                    "ban_windows": [{"days": [1, 2, 3, 4, 5, 6, 7], "from": "00:00", "to": "23:59"}]},
                   box(trips[2][1]["closed road"], 20)),
        "gate": ({"kind": "no_stopping", "name": "禁停区"}, box(trips[2][1]["no stopping"], 40)),
    }
    carrier, plate = vehicles[3]
    track = trips[3][0]
    waybill = {"id": f"W-{plate}", "plate": plate, "driver_id": fleet.drivers[carrier][0],
               "escort_id": fleet.drivers[carrier][1], "un_number": "1203", "hazard_class": "3", "quantity_kg": 20000,
               "origin": {"name": "Depot", "lat": track[0]["lat"], "lon": track[0]["lon"]},
               "destination": {"name": "Station", "lat": track[-1]["lat"], "lon": track[-1]["lon"]},
               "route": {"type": "LineString", "coordinates": [[track[0]["lon"], track[0]["lat"]],
                                                               [track[-1]["lon"], track[-1]["lat"]]]},
               "valid_from": rfc3339(t0 - MINUTE), "valid_to": rfc3339(t0 + 120 * MINUTE)}

    # The worker is live (it has handled a batch: the moment the old code had just read its
    # references and would not again for 2 s); then the writes and the fixes, at once.
    first = dict(trips[0][0][0], ts=t0 - MINUTE)
    await api.json("POST", "/v1/fixes", await api.token("gateway", carrier_id=vehicles[0][0]), expect=202, json=[first])

    async def live():
        return await api.client.app[POOL].fetchval("SELECT count(*) FROM positions WHERE plate = $1", first["plate"])

    await until(live, 30, "the worker handled a first fix")
    for gid, (properties, geometry) in features.items():
        await api.json("PUT", f"/v1/geofences/{gid}", api.admin_token, expect=201,
                       json={"type": "Feature", "geometry": geometry, "properties": properties})
    await api.json("POST", "/v1/waybills", await api.token("gateway", carrier_id=carrier), expect=201, json=waybill)
    gateways = {c: await api.token("gateway", carrier_id=c) for c in fleet.carriers}
    posts = [api.json("POST", "/v1/fixes", gateways[c], expect=202, json=fixes)
             for (c, _), (fixes, _) in zip(vehicles, trips)]
    await asyncio.gather(*posts)

    last = {p: fixes[-1]["ts"] for (_, p), (fixes, _) in zip(vehicles, trips)}

    async def all_judged():
        rows = await api.client.app[POOL].fetch(
            "SELECT plate, (state->>'last_ts')::bigint AS last_ts FROM vehicle_state WHERE plate = ANY($1::text[])",
            list(last))
        return len(rows) == len(last) and all(r["last_ts"] == last[r["plate"]] for r in rows)

    await until(all_judged, 30, "the worker has handled every fix")
    _, page = await api.json("GET", "/v1/violations?limit=1000", api.admin_token, expect=200)
    for (_, p), expected in zip(vehicles, EXPECTED):
        got = {v["kind"] for v in page["items"] if v["plate"] == p} & JUDGED
        assert got == expected, (p, got, [v["details"] for v in page["items"] if v["plate"] == p])
