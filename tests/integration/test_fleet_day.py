"""End to end over a whole day: four vehicles' 24 hours (a fix a minute) posted through
`POST /v1/fixes`, with geofences and a waybill set up through the API, one worker; the
violations read back from `GET /v1/violations` and from the topic must be exactly what
the pure core yields for the same day."""
from __future__ import annotations

import time

import pytest
import shapely

from geofence.index import GeofenceIndex
from geofence.model import compile_geofence
from streams.batch import process
from streams.rules.engine import Context
from streams.rules.violations import event_id
from streams.times import rfc3339
from streams.rules.waybills import ActiveWaybill, active
from tests.client import fleet_body
from tests.scenario import M_LAT, M_LON
from tests.topic import read_topic
from tests.waiting import until
from tracker.api.context import POOL

pytestmark = pytest.mark.integration

LAT0, LON0 = 29.82, 121.62
MINUTE = 60_000

# Per vehicle, segments of (minutes, speed km/h, metres north of its lane, label); a fix a
# minute. Speed None: silent (no fixes). 1 440 minutes in all, ending standing still.
PLANS = [
    # drives 4h40 without a rest (fatigue), parks 30 min on the road (illegal parking),
    # speeds, falls silent for 30 min while moving (offline), drives on
    [(280, 50, 0, ""), (30, 0, 0, ""), (5, 75, 0, ""), (200, 50, 0, ""), (30, None, 0, ""), (892, 40, 0, ""),
     (3, 0, 0, "")],
    # drives day and night with 25-minute rests (night driving); one fix jumps 30 km
    [(155, 40, 0, ""), (25, 0, 0, ""), (155, 40, 0, ""), (25, 0, 0, ""), (155, 40, 0, ""), (25, 0, 0, ""),
     (1, 40, 30_000, ""), (896, 40, 0, ""), (3, 0, 0, "")],
    # crosses a closed road (always banned) for 20 minutes
    [(60, 30, 0, ""), (20, 30, 0, "closed road"), (60, 30, 0, ""), (1297, 0, 0, ""), (3, 0, 0, "")],
    # on a waybill along its lane: stops 5 min in a no-stopping zone, strays 1 km north for 10 min
    [(30, 40, 0, ""), (5, 0, 0, "no stopping"), (30, 40, 0, ""), (10, 40, 1000, ""), (60, 40, 0, ""),
     (1302, 0, 0, ""), (3, 0, 0, "")],
]


def day_of(plate: str, carrier: str, lane: int, plan, t0: int) -> tuple[list[dict], dict[str, list[tuple]]]:
    """The vehicle's fixes, and the (lon, lat) of each labelled segment's fixes."""
    fixes, marks, east, minute = [], {}, 0.0, 0
    lane_lat = LAT0 + lane * 2000 * M_LAT
    for minutes, speed, north, label in plan:
        for _ in range(minutes):
            if speed is not None:
                lat, lon = lane_lat + north * M_LAT, LON0 + east * M_LON
                fixes.append({"plate": plate, "ts": t0 + minute * MINUTE, "lat": lat, "lon": lon,
                              "speed_kmh": float(speed), "heading_deg": 90.0})
                if label:
                    marks.setdefault(label, []).append((lon, lat))
                east += speed * 1000 / 60
            else:
                east += 50 * 1000 / 60  # moving while silent
            minute += 1
    assert minute == 1440
    return fixes, marks


def around(points: list[tuple], margin_m: float) -> dict:
    """A rectangle around `points`, `margin_m` wider on every side, as GeoJSON."""
    xs, ys = [p[0] for p in points], [p[1] for p in points]
    box = shapely.box(min(xs) - margin_m * M_LON, min(ys) - margin_m * M_LAT,
                      max(xs) + margin_m * M_LON, max(ys) + margin_m * M_LAT)
    return shapely.geometry.mapping(box)


async def test_a_day_of_a_small_fleet(api, settings, topics, worker):
    fleet, body = fleet_body()
    await api.json("PUT", "/v1/registry", api.admin_token, expect=200, json=body)
    vehicles = [(carrier, plate) for carrier in fleet.carriers for plate in fleet.plates[carrier]]
    t0 = (int(time.time() * 1000) // MINUTE - 1441) * MINUTE  # the last fix a minute ago
    days = [day_of(plate, carrier, lane, plan, t0) for lane, ((carrier, plate), plan) in enumerate(zip(vehicles, PLANS))]
    features = {
        "closed-road": {"type": "Feature", "geometry": around(days[2][1]["closed road"], 20),
                        "properties": {"kind": "restricted_road", "name": "Closed road"}},
        "school": {"type": "Feature", "geometry": around(days[3][1]["no stopping"], 50),
                   "properties": {"kind": "no_stopping", "name": "School gate"}},
    }
    for gid, feature in features.items():
        await api.json("PUT", f"/v1/geofences/{gid}", api.admin_token, expect=201, json=feature)
    carrier, plate = vehicles[3]
    track = days[3][0]
    route = {"type": "LineString", "coordinates": [[track[0]["lon"], track[0]["lat"]], [track[-1]["lon"], track[-1]["lat"]]]}
    waybill = {"id": f"W-{plate}", "plate": plate, "driver_id": fleet.drivers[carrier][0],
               "escort_id": fleet.drivers[carrier][1], "un_number": "1203", "hazard_class": "3", "quantity_kg": 20000,
               "origin": {"name": "Depot", "lat": track[0]["lat"], "lon": track[0]["lon"]},
               "destination": {"name": "Station", "lat": track[-1]["lat"], "lon": track[-1]["lon"]},
               "route": route, "valid_from": rfc3339(t0 - MINUTE), "valid_to": rfc3339(t0 + 1441 * MINUTE)}
    gateway = await api.token("gateway", carrier_id=carrier)
    await api.json("POST", "/v1/waybills", gateway, expect=201, json=waybill)

    # What the pure core says the day must yield, with the same geofences and waybill.
    index = GeofenceIndex()
    for gid, feature in features.items():
        index.put(compile_geofence(gid, 1, feature["geometry"], feature["properties"]))
    waybills = {plate: [ActiveWaybill(waybill["id"], plate, "1203", t0 - MINUTE, t0 + 1441 * MINUTE,
                                      (track[0]["lat"], track[0]["lon"]), (track[-1]["lat"], track[-1]["lon"]), route)]}
    everything = sorted((dict(f, carrier_id=c) for (c, _), (fixes, _) in zip(vehicles, days) for f in fixes),
                        key=lambda f: f["ts"])
    core = process([dict(f) for f in everything], {},
                   Context(index, lambda p, ts: active(waybills.get(p, []), ts)))
    expected_events = {event_id(v, t) for t, v in core.events}
    final = {v.violation_id: v.wire() for _, v in core.events}  # as the API answers them
    assert {v["kind"] for v in final.values()} >= {
        "fatigue_driving", "illegal_parking", "speeding", "offline", "night_driving", "gps_jump", "restricted_road",
        "no_stopping", "route_deviation"}

    async def worker_knows_everything():
        return set(features) <= set(worker.index.geofences) and worker.refs.waybill_at(plate, t0) is not None

    await until(worker_knows_everything, 10)
    # Each carrier's gateway posts every 10 minutes of the day, as it would live (a gateway
    # a day behind the others would see its vehicles offline by the others' clock, then
    # withdrawn: right, but not what the single pass below yields).
    gateways = {c: await api.token("gateway", carrier_id=c) for c in fleet.carriers}
    for window in range(t0, t0 + 1440 * MINUTE, 10 * MINUTE):
        for c, gateway in gateways.items():
            chunk = [{k: v for k, v in f.items() if k != "carrier_id"} for f in everything
                     if f["carrier_id"] == c and window <= f["ts"] < window + 10 * MINUTE]
            if chunk:
                status, answer = await api.json("POST", "/v1/fixes", gateway, json=chunk)
                assert status == 202 and not answer["rejected"], answer

    plates = [p for _, p in vehicles]

    seen: dict = {}

    async def stored():
        _, page = await api.json("GET", "/v1/violations?limit=1000", api.admin_token, expect=200)
        seen.clear()
        seen.update({v["violation_id"]: v for v in page["items"] if v["plate"] in plates})
        return seen if seen.keys() == final.keys() and all(seen[k]["status"] == final[k]["status"] for k in final) else None

    try:
        got = await until(stored, 60)
    except AssertionError:
        def show(vs):
            return sorted((v["kind"], v["plate"][-2:], v["status"], v["started_at"]) for v in vs)
        raise AssertionError(f"missing {show(v for k, v in final.items() if k not in seen)}, "
                             f"unexpected {show(v for k, v in seen.items() if k not in final)}, "
                             f"status {show(v for k, v in seen.items() if k in final and v['status'] != final[k]['status'])}"
                             ) from None
    for vid, violation in final.items():
        assert {k: got[vid][k] for k in ("kind", "plate", "started_at", "ended_at", "geofence_id", "waybill_id")} == {
            k: violation[k] for k in ("kind", "plate", "started_at", "ended_at", "geofence_id", "waybill_id")}
    events = await read_topic(settings.kafka_bootstrap, topics.violations, len(expected_events), timeout_s=30)
    assert {e["id"] for _, e in events} == expected_events

    async def track_stored():  # everything but the jump
        return await api.client.app[POOL].fetchval(
            "SELECT count(*) FROM positions WHERE plate = ANY($1::text[])", plates) == len(core.positions)

    await until(track_stored, 10)
