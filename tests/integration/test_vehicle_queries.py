"""GET /v1/vehicles and /v1/vehicles/{plate}/track over what a worker stored: filters,
GCJ-02, the track's window and shapes, parameter errors."""
from __future__ import annotations

import time

import pytest

from geofence.gcj02 import wgs84_to_gcj02
from streams.rules.state import VehicleState
from streams.rules.violations import open_violation
from streams.times import rfc3339
from tests.contracts import validate
from tracker.api.context import POOL
from tracker.db.batches import BatchResult, write_batch
from tracker.db.states import state_row
from tracker.db.violations import upsert_violations, violation_row

pytestmark = pytest.mark.integration
MINUTE = 60_000


@pytest.fixture
async def stored(api, fleet):
    """What a worker writes for three vehicles of the fleet: a mover with a track of five fixes
    and an open speeding violation, a stopped one with one fix, an offline one. An hour ago:
    the days the positions table has partitions for, and within a track's default window."""
    t0 = int(time.time() * 1000) // MINUTE * MINUTE - 60 * MINUTE
    carrier = fleet.carriers[0]
    mover, parked = fleet.plates[carrier]
    silent = fleet.plates[fleet.carriers[1]][0]
    states = []
    for plate, lat, lon, speed, status in ((mover, 29.90, 121.80, 55.0, "moving"), (parked, 29.95, 121.90, 0.0, "stopped"),
                                           (silent, 30.10, 122.10, 40.0, "offline")):
        s = VehicleState(plate, carrier_id=fleet.carriers[0] if plate != silent else fleet.carriers[1],
                         last_ts=t0 + 4 * MINUTE, last_lat=lat, last_lon=lon, last_speed=speed)
        if status == "stopped":
            s.stop.anchor_ts, s.stop.anchor_lat, s.stop.anchor_lon = t0, lat, lon
        if status == "offline":
            s.open["offline"] = open_violation("offline", plate, s.carrier_id, t0, lat, lon)
        if plate == mover:
            s.open["speeding"] = open_violation("speeding", plate, carrier, t0, lat, lon)
        states.append(s)
    track = [(mover, t0 + i * MINUTE, 29.90 - (4 - i) * 0.001, 121.80, 50.0 + i, 90.0, None, 0, "http", t0 + i * MINUTE)
             for i in range(5)]
    track.append((parked, t0 + 4 * MINUTE, 29.95, 121.90, 0.0, 0.0, None, 0, "http", t0 + 4 * MINUTE))
    await write_batch(api.client.app[POOL], "vehicles-test", BatchResult(
        positions=track, states=[state_row(s) for s in states]))
    return fleet, t0, mover, parked, silent


async def test_latest_positions_with_their_status_and_open_violations(api, stored):
    fleet, t0, mover, parked, silent = stored
    carrier = fleet.carriers[0]
    _, page = await api.json("GET", f"/v1/vehicles?carrier_id={carrier}", api.admin_token, expect=200)
    assert page["type"] == "FeatureCollection"
    for feature in page["features"]:
        validate("vehicle_position.schema.json", feature)
    by_plate = {f["id"]: f for f in page["features"]}
    assert set(by_plate) == {mover, parked}
    assert by_plate[mover]["geometry"]["coordinates"] == [121.80, 29.90]
    assert by_plate[mover]["properties"] == {"plate": mover, "carrier_id": carrier,
                                             "carrier_name": f"Carrier {carrier}", "ts": rfc3339(t0 + 4 * MINUTE),
                                             "speed_kmh": 55.0, "heading_deg": 90.0, "status": "moving",
                                             "open_violations": ["speeding"]}
    assert by_plate[parked]["properties"]["status"] == "stopped"
    _, page = await api.json("GET", f"/v1/vehicles?carrier_id={fleet.carriers[1]}&status=offline", api.admin_token,
                             expect=200)
    assert [(f["id"], f["properties"]["open_violations"]) for f in page["features"]] == [(silent, ["offline"])]
    _, page = await api.json("GET", f"/v1/vehicles?carrier_id={carrier}&bbox=121.85,29.9,121.95,30.0", api.admin_token,
                             expect=200)
    assert [f["id"] for f in page["features"]] == [parked]
    _, page = await api.json("GET", f"/v1/vehicles?carrier_id={carrier}&status=stopped&crs=gcj02", api.admin_token,
                             expect=200)
    lon, lat = wgs84_to_gcj02(121.90, 29.95)
    assert page["features"][0]["geometry"]["coordinates"] == pytest.approx([float(lon), float(lat)], abs=1e-9)
    assert page["features"][0]["geometry"]["coordinates"] != [121.90, 29.95]  # GCJ-02 is ~500 m off here


async def test_a_track_in_time_order_within_its_window(api, stored):
    fleet, t0, mover, parked, silent = stored
    operator = await api.token("operator")
    _, track = await api.json("GET", f"/v1/vehicles/{mover}/track?from={t0}&to={t0 + 10 * MINUTE}", operator,
                              expect=200)
    validate("track.schema.json", track)
    assert track["geometry"]["type"] == "LineString"
    assert track["geometry"]["coordinates"] == [[121.80, 29.90 - (4 - i) * 0.001] for i in range(5)]
    assert track["properties"]["times"] == [rfc3339(t0 + i * MINUTE) for i in range(5)]
    assert track["properties"]["speed_kmh"] == [50.0, 51.0, 52.0, 53.0, 54.0]
    _, part = await api.json("GET", f"/v1/vehicles/{mover}/track?from={rfc3339(t0 + MINUTE)}&to={t0 + 3 * MINUTE}",
                             operator, expect=200)
    assert part["properties"]["times"] == [rfc3339(t0 + MINUTE), rfc3339(t0 + 2 * MINUTE)]  # [from, to)
    _, one = await api.json("GET", f"/v1/vehicles/{parked}/track", operator, expect=200)  # the last 24 h
    assert one["geometry"] == {"type": "Point", "coordinates": [121.90, 29.95]}
    _, none = await api.json("GET", f"/v1/vehicles/{silent}/track", operator, expect=200)
    validate("track.schema.json", none)
    assert none["geometry"] is None and none["properties"]["times"] == []
    _, shifted = await api.json("GET", f"/v1/vehicles/{mover}/track?from={t0}&to={t0 + MINUTE}&crs=gcj02", operator,
                                expect=200)
    lon, lat = wgs84_to_gcj02(121.80, 29.90 - 0.004)
    assert shifted["geometry"]["type"] == "Point"  # one fix in the window
    assert shifted["geometry"]["coordinates"] == pytest.approx([float(lon), float(lat)], abs=1e-9)


@pytest.mark.parametrize("path, field", [
    ("/v1/vehicles?status=parked", "status"),
    ("/v1/vehicles?bbox=1,2,3", "bbox"),
    ("/v1/vehicles?crs=bd09", "crs"),
    ("/v1/vehicles/{plate}/track?from=yesterday", "from"),
    ("/v1/vehicles/{plate}/track?from=2026-11-20T00:00:00Z&to=2026-11-10T00:00:00Z", "from"),
    ("/v1/vehicles/{plate}/track?from=2026-11-01T00:00:00Z&to=2026-11-20T00:00:00Z", "from"),
])
async def test_bad_parameters_are_400_naming_the_field(api, fleet, path, field):
    plate = fleet.plates[fleet.carriers[0]][0]
    status, problem = await api.json("GET", path.replace("{plate}", plate), api.admin_token)
    assert status == 400 and problem["errors"][0]["field"] == field, problem


async def test_an_unknown_plate_has_no_track(api):  # roles: test_auth_matrix
    assert (await api.call("GET", "/v1/vehicles/浙Z00000/track", api.admin_token)).status == 404


async def test_one_vehicle_for_the_details_panel(api, stored):
    fleet, t0, mover, parked, silent = stored
    carrier = fleet.carriers[0]
    operator = await api.token("operator")
    await api.json("POST", "/v1/waybills", api.admin_token, expect=201, json={
        "id": f"W-{mover}", "plate": mover, "driver_id": fleet.drivers[carrier][0],
        "escort_id": fleet.drivers[carrier][1], "un_number": "1203", "hazard_class": "3", "quantity_kg": 20000,
        "origin": {"name": "镇海炼化", "lat": 29.95, "lon": 121.70},
        "destination": {"name": "北仑加油站", "lat": 29.90, "lon": 121.85},
        "route": {"type": "LineString", "coordinates": [[121.70, 29.95], [121.85, 29.90]]},
        "valid_from": rfc3339(t0), "valid_to": rfc3339(t0 + 24 * 60 * MINUTE)})
    speeding = open_violation("speeding", mover, carrier, t0, 29.90, 121.80)
    async with api.client.app[POOL].acquire() as conn:
        await upsert_violations(conn, [violation_row(speeding)])
    await api.json("POST", f"/v1/violations/{speeding.violation_id}/ack", operator, expect=200)

    _, details = await api.json("GET", f"/v1/vehicles/{mover}", operator, expect=200)
    validate("vehicle_details.schema.json", details)
    assert details["carrier"] == {"id": carrier, "name": f"Carrier {carrier}"}
    assert (details["tank_capacity_kg"], details["hazard_classes"]) == (30000, ["2.1", "3"])
    assert details["permit_valid_until"] == "2030-01-01"
    assert details["terminal"] is None  # it reports through an HTTP gateway
    assert details["position"]["properties"]["status"] == "moving"
    assert details["active_waybill"]["id"] == f"W-{mover}" and details["active_waybill"]["un_number"] == "1203"
    assert [(v["violation_id"], v["handling"]["state"]) for v in details["open_violations"]] == [
        (speeding.violation_id, "acked")]

    _, in_gcj02 = await api.json("GET", f"/v1/vehicles/{mover}?crs=gcj02", operator, expect=200)
    lon, lat = wgs84_to_gcj02(121.80, 29.90)
    assert in_gcj02["position"]["geometry"]["coordinates"] == pytest.approx([float(lon), float(lat)], abs=1e-9)
    assert (in_gcj02["open_violations"][0]["lon"], in_gcj02["open_violations"][0]["lat"]) == pytest.approx(
        (float(lon), float(lat)), abs=1e-9)

    _, none_yet = await api.json("GET", f"/v1/vehicles/{fleet.plates[fleet.carriers[1]][1]}", operator, expect=200)
    assert none_yet["position"] is None and none_yet["active_waybill"] is None and none_yet["open_violations"] == []
    status, _ = await api.json("GET", "/v1/vehicles/浙B00000X", operator)
    assert status == 404
    status, _ = await api.json("GET", f"/v1/vehicles/{mover}", await api.token("agency", agency="police"))
    assert status == 403
