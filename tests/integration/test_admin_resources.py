"""Tokens, registry, geofences and waybills against the real PostGIS."""
from __future__ import annotations

import copy
import time

import pytest

from tests.client import fleet_body
from tests.contracts import validate

pytestmark = pytest.mark.integration
# The local (UTC+8) day the tests run on: waybills of today.
TODAY = time.strftime("%Y-%m-%d", time.gmtime(time.time() + 8 * 3600))

PARK = {
    "type": "Feature",
    "geometry": {"type": "Polygon", "coordinates": [[[121.80, 29.90], [121.85, 29.90], [121.85, 29.94],
                                                      [121.80, 29.94], [121.80, 29.90]]]},
    "properties": {"kind": "chem_park", "name": "Qingzhi"},
}


def waybill(fleet, carrier: int = 0, **over) -> dict:
    c = fleet.carriers[carrier]
    body = {
        "id": f"W-{c}", "plate": fleet.plates[c][0], "driver_id": fleet.drivers[c][0], "escort_id": fleet.drivers[c][1],
        "un_number": "1203", "hazard_class": "3", "quantity_kg": 20000,
        "origin": {"name": "Depot", "lat": 29.91, "lon": 121.82},
        "destination": {"name": "Station", "lat": 29.95, "lon": 121.90},
        "route": {"type": "LineString", "coordinates": [[121.82, 29.91], [121.86, 29.93], [121.90, 29.95]]},
        "valid_from": f"{TODAY}T08:00:00+08:00", "valid_to": f"{TODAY}T20:00:00+08:00",
    }
    body.update(over)
    return body


async def test_token_issue_shows_secret_once_and_checks_binding(api, fleet):
    status, body = await api.json("POST", "/v1/tokens", api.admin_token,
                                  json={"role": "gateway", "carrier_id": fleet.carriers[0], "label": "gw"})
    assert status == 201
    validate("token.schema.json", body)
    assert body["carrier_id"] == fleet.carriers[0] and len(body["token"]) >= 32
    for bad, field in [({"role": "gateway", "label": "x"}, "carrier_id"),
                       ({"role": "station", "label": "x"}, "station_id"),
                       ({"role": "agency", "label": "x"}, "agency"),
                       ({"role": "operator", "label": "x", "carrier_id": fleet.carriers[0]}, "carrier_id"),
                       ({"role": "gateway", "label": "x", "carrier_id": "nope"}, "carrier_id")]:
        status, problem = await api.json("POST", "/v1/tokens", api.admin_token, json=bad)
        assert status == 422, (bad, problem)
        assert problem["errors"][0]["field"] == field
    status, problem = await api.json("POST", "/v1/tokens", api.admin_token, json={"role": "root", "label": "x"})
    assert status == 422 and problem["errors"][0]["field"] == "role"


async def test_registry_upsert_counts_and_rejects_unknown_carriers(api, fleet):
    _, body = fleet_body()
    status, counts = await api.json("PUT", "/v1/registry", api.admin_token, json=body)
    assert (status, counts) == (200, {"carriers": 2, "vehicles": 4, "drivers": 4})
    body["vehicles"][0]["tank_capacity_kg"] = 25000
    assert (await api.json("PUT", "/v1/registry", api.admin_token, json=body))[0] == 200
    bad = {"vehicles": [dict(body["vehicles"][0], carrier_id="ghost")]}
    status, problem = await api.json("PUT", "/v1/registry", api.admin_token, json=bad)
    assert status == 422
    assert problem["errors"] == [{"message": "unknown carrier 'ghost'", "index": 0, "field": "vehicles.carrier_id"}]
    status, problem = await api.json("PUT", "/v1/registry", api.admin_token,
                                     json={"vehicles": [dict(body["vehicles"][0], permit_valid_until="soon")]})
    assert status == 422 and "permit_valid_until" in problem["errors"][0]["field"]


async def test_geofence_put_get_delete_and_versions(api):
    operator = await api.token("operator")
    status, stored = await api.json("PUT", "/v1/geofences/park-q", operator, json=PARK)
    assert status == 201
    validate("geofence_feature.schema.json", stored)
    assert stored["id"] == "park-q" and stored["properties"]["version"] == 1 and stored["properties"]["active"]
    status, stored = await api.json("PUT", "/v1/geofences/park-q", operator, json=PARK)
    assert status == 200 and stored["properties"]["version"] == 2
    agency = await api.token("agency", agency="police")
    _, collection = await api.json("GET", "/v1/geofences?kind=chem_park&bbox=121.7,29.8,121.9,30.0", agency,
                                   expect=200)
    assert [f["id"] for f in collection["features"] if f["id"] == "park-q"] == ["park-q"]
    _, elsewhere = await api.json("GET", "/v1/geofences?bbox=100,20,101,21", agency, expect=200)
    assert "park-q" not in [f["id"] for f in elsewhere["features"]]
    _, gcj = await api.json("GET", "/v1/geofences?kind=chem_park&crs=gcj02", agency, expect=200)
    corner = next(f for f in gcj["features"] if f["id"] == "park-q")["geometry"]["coordinates"][0][0]
    # GCJ-02 moves Ningbo by a few hundred metres to the north-east
    assert 0.003 < corner[0] - 121.80 < 0.006 and -0.004 < corner[1] - 29.90 < 0
    assert (await api.call("DELETE", "/v1/geofences/park-q", operator)).status == 204
    assert (await api.call("DELETE", "/v1/geofences/park-q", operator)).status == 404
    _, after = await api.json("GET", "/v1/geofences", operator, expect=200)
    assert "park-q" not in [f["id"] for f in after["features"]]
    status, revived = await api.json("PUT", "/v1/geofences/park-q", operator, json=PARK)
    assert status == 201 and revived["properties"]["version"] == 4


def _with(feature: dict, path: list, value) -> dict:
    out = copy.deepcopy(feature)
    target = out
    for key in path[:-1]:
        target = target[key]
    target[path[-1]] = value
    return out


GEOFENCE_ERRORS = [
    (_with(PARK, ["geometry", "coordinates"], [[[121.80, 29.90], [121.85, 29.90], [121.85, 29.94], [121.80, 29.94]]]),
     "geometry.coordinates[0]", "not closed"),
    (_with(PARK, ["geometry", "coordinates"], [[[121.80, 29.90], [121.85, 29.94], [121.85, 29.90], [121.80, 29.94],
                                                [121.80, 29.90]]]), "geometry", "Self-intersection"),
    (_with(PARK, ["properties", "kind"], "parking_lot"), "properties.kind", ""),
    (_with(PARK, ["properties"], {"kind": "parking"}), "properties", "name"),
    (_with(PARK, ["geometry"], {"type": "Point", "coordinates": [121.8, 29.9]}), "geometry.type", "chem_park"),
    ({"type": "Feature", "geometry": {"type": "Point", "coordinates": [121.8, 29.9]},
      "properties": {"kind": "filling_station", "name": "S", "station_id": "S1"}}, "properties.radius_m", "radius_m"),
    ({"type": "Feature", "geometry": {"type": "Polygon", "coordinates": PARK["geometry"]["coordinates"]},
      "properties": {"kind": "speed_zone", "name": "Z"}}, "properties.speed_limit_kmh", "speed_limit_kmh"),
    (_with(PARK, ["geometry", "coordinates"], [[[29.90, 121.80], [29.90, 121.85], [29.94, 121.85], [29.90, 121.80]]]),
     "geometry.coordinates[0][0][1]", "90"),  # lat and lon swapped: positions are [lon, lat]
    (_with(PARK, ["properties", "name"], "Qingzhi\u0000"), "properties.name", ""),
    (_with(PARK, ["properties", "name"], " "), "properties.name", ""),
    (_with(PARK, ["geometry", "coordinates"], [[[121.0, 29.0], [122.0, 29.0], [122.0, 30.0], [121.0, 30.0],
                                                [121.0, 29.0]]]), "geometry", "km2"),
    ({"type": "Feature", "geometry": {"type": "LineString", "coordinates": [[121.8, 29.9], [121.81, 29.9]]},
      "properties": {"kind": "restricted_road", "name": "R", "ban_windows": [{"from": "25:00", "to": "06:00"}]}},
     "properties.ban_windows[0].from", ""),
]


@pytest.mark.parametrize("feature, field, words", GEOFENCE_ERRORS)
async def test_geofence_validation_names_each_problem(api, feature, field, words):
    status, problem = await api.json("PUT", "/v1/geofences/bad", api.admin_token, json=feature)
    assert status == 422, problem
    assert any(e.get("field") == field and words in e["message"] for e in problem["errors"]), problem


async def test_corridor_gets_default_buffer(api):
    road = {"type": "Feature", "geometry": {"type": "LineString", "coordinates": [[121.8, 29.9], [121.81, 29.9]]},
            "properties": {"kind": "restricted_road", "name": "R",
                           "ban_windows": [{"days": [1, 2, 3, 4, 5], "from": "22:00", "to": "06:00"}]}}
    _, stored = await api.json("PUT", "/v1/geofences/road-1", api.admin_token, expect=201, json=road)
    assert stored["properties"]["buffer_m"] == 30


async def test_waybill_new_replaced_and_ownership(api, fleet):
    gateway = await api.token("gateway", carrier_id=fleet.carriers[0])
    status, stored = await api.json("POST", "/v1/waybills", gateway, json=waybill(fleet))
    assert status == 201
    validate("waybill.schema.json", stored)
    status, _ = await api.json("POST", "/v1/waybills", gateway, json=waybill(fleet, quantity_kg=15000))
    assert status == 200
    status, problem = await api.json("POST", "/v1/waybills", gateway, json=waybill(fleet, carrier=1))
    assert status == 403, problem
    stolen = waybill(fleet, carrier=1, id=f"W-{fleet.carriers[0]}")
    other_gateway = await api.token("gateway", carrier_id=fleet.carriers[1])
    status, _ = await api.json("POST", "/v1/waybills", other_gateway, json=stolen)
    assert status == 403
    assert (await api.json("POST", "/v1/waybills", api.admin_token, json=waybill(fleet, carrier=1)))[0] == 201


@pytest.mark.parametrize("over, field", [
    ({"valid_to": f"{TODAY}T07:00:00+08:00"}, "valid_to"),
    ({"driver_id": "nobody"}, "driver_id"),
    ({"route": {"type": "LineString", "coordinates": [[121.8, 29.9], [121.8, 29.9]]}}, "route.coordinates"),
    ({"plate": "浙X99999"}, "plate"),
    ({"valid_from": f"{TODAY}T08:00:00"}, "valid_from"),
    ({"un_number": "12"}, "un_number"),
])
async def test_waybill_validation(api, fleet, over, field):
    status, problem = await api.json("POST", "/v1/waybills", api.admin_token, json=waybill(fleet, **over))
    assert status == 422, problem
    assert problem["errors"][0]["field"] == field


async def test_unknown_routes_and_methods_are_problems(api):
    response = await api.call("GET", "/v1/nothing-here")
    assert response.status == 404 and response.headers["Content-Type"].startswith("application/problem+json")
    response = await api.call("PATCH", "/v1/fixes")
    assert response.status == 405
