"""GET /v1/vehicles/{plate}/trips and /stops over a stored itinerary: a night stop at a
filling station that began the day before, a drive to a parking lot, a stop there, a
drive, a stop in no zone, a last move; geofences of each start and end; the local day."""
from __future__ import annotations

import math
import uuid
from datetime import datetime, timezone

import pytest

from geofence.metric import EARTH_RADIUS_M
from tests.contracts import validate
from tracker.api.context import POOL
from tracker.db.batches import BatchResult, write_batch

pytestmark = pytest.mark.integration
LAT0, LON0 = 30.61, 122.41  # away from other tests' geofences
T0 = int(datetime(2026, 11, 9, 15, 30, tzinfo=timezone.utc).timestamp() * 1000)  # 23:30 local on the 9th


def lat_at(north_m: float) -> float:
    return LAT0 + math.degrees(north_m / EARTH_RADIUS_M)


def at(i: int) -> str:
    return datetime.fromtimestamp((T0 + i * 30_000) / 1000, timezone.utc).strftime("%Y-%m-%dT%H:%M:%S.000Z")


def square(north_m: float, half_m: float) -> list[list[float]]:
    dlat, dlon = math.degrees(half_m / EARTH_RADIUS_M), math.degrees(half_m / EARTH_RADIUS_M) / math.cos(math.radians(LAT0))
    lat = lat_at(north_m)
    return [[LON0 - dlon, lat - dlat], [LON0 + dlon, lat - dlat], [LON0 + dlon, lat + dlat], [LON0 - dlon, lat + dlat],
            [LON0 - dlon, lat - dlat]]


@pytest.fixture
async def itinerary(api, fleet):
    plate = fleet.plates[fleet.carriers[0]][0]
    tag = uuid.uuid4().hex[:6]
    station, parking = f"st-{tag}", f"pk-{tag}"
    await api.json("PUT", f"/v1/geofences/{station}", api.admin_token, json={
        "type": "Feature", "id": station, "geometry": {"type": "Point", "coordinates": [LON0, LAT0]},
        "properties": {"kind": "filling_station", "name": station, "station_id": station, "radius_m": 150}})
    await api.json("PUT", f"/v1/geofences/{parking}", api.admin_token, json={
        "type": "Feature", "id": parking, "geometry": {"type": "Polygon", "coordinates": [square(6000, 200)]},
        "properties": {"kind": "parking", "name": parking}})
    plan = [("stop", 140), ("drive", 20), ("stop", 60), ("drive", -10), ("stop", 20), ("drive", -2)]
    rows, north, i = [], 0.0, 0
    for what, n in plan:
        for _ in range(abs(n)):
            if what == "drive":
                north += 300 if n > 0 else -300
            speed = 36.0 if what == "drive" else 0.0
            ts = T0 + i * 30_000
            rows.append((plate, ts, lat_at(north), LON0, speed, 0.0, None, 0, "http", ts))
            i += 1
    await write_batch(api.client.app[POOL], "trips-test", BatchResult(positions=rows))
    yield plate, station, parking
    for gid in (station, parking):  # the next test puts its own at the same place
        assert (await api.call("DELETE", f"/v1/geofences/{gid}", api.admin_token)).status == 204


async def test_stops_of_a_day_include_the_one_begun_the_night_before(api, itinerary):
    plate, station, parking = itinerary
    _, body = await api.json("GET", f"/v1/vehicles/{plate}/stops?date=2026-11-10", api.admin_token, expect=200)
    validate("legs.schema.json", body)
    assert [(s["start"], s["end"]) for s in body["items"]] == [(at(0), at(140)), (at(160), at(220)), (at(230), at(250))]
    assert [s["duration_s"] for s in body["items"]] == [4200, 1800, 600]
    assert [(s["from"]["geofence_id"], s["to"]["geofence_id"]) for s in body["items"]] == [
        (station, station), (parking, parking), (None, None)]
    assert body["items"][0]["from"] == {"lat": LAT0, "lon": LON0, "geofence_id": station}
    assert all(s["distance_m"] == 0 for s in body["items"])
    _, before = await api.json("GET", f"/v1/vehicles/{plate}/stops?date=2026-11-09", api.admin_token, expect=200)
    assert [(s["start"], s["end"]) for s in before["items"]] == [(at(0), at(140))]


async def test_trips_between_the_stops_with_where_they_began_and_ended(api, itinerary):
    plate, station, parking = itinerary
    _, body = await api.json("GET", f"/v1/vehicles/{plate}/trips?date=2026-11-10", api.admin_token, expect=200)
    validate("legs.schema.json", body)
    items = body["items"]
    assert [(t["start"], t["end"]) for t in items] == [(at(140), at(160)), (at(220), at(230)), (at(250), at(251))]
    assert [(t["from"]["geofence_id"], t["to"]["geofence_id"]) for t in items] == [
        (station, parking), (parking, None), (None, None)]
    assert [round(t["distance_m"]) for t in items] == [6000, 3000, 600]
    _, none = await api.json("GET", f"/v1/vehicles/{plate}/trips?date=2026-11-12", api.admin_token, expect=200)
    assert none["items"] == []


async def test_roles_and_bad_queries(api, itinerary, fleet):
    plate, _, _ = itinerary
    agency = await api.token("agency", agency="police")
    await api.json("GET", f"/v1/vehicles/{plate}/trips?date=2026-11-10", agency, expect=403)
    for query in ("", "?date=2026-11", "?date=2026-13-01", "?date=2026-11-10&from=1"):
        status, _ = await api.json("GET", f"/v1/vehicles/{plate}/stops{query}", api.admin_token)
        assert status == 400, query
    await api.json("GET", "/v1/vehicles/%E6%B5%99B00000X/trips?date=2026-11-10", api.admin_token, expect=404)
