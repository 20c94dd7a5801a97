"""The incident desk against the real PostGIS and broker (docs/incidents.md): sites,
the bureau's hazard figures, incidents with their zones and lists, events and the live rule."""
from __future__ import annotations

import math
import uuid

import pytest

from geofence.gcj02 import wgs84_to_gcj02
from geofence.metric import haversine_m
from streams.rules.state import VehicleState
from streams.times import now_ms, rfc3339
from tests.client import Api, ApiTestServer, fleet_body
from tests.contracts import validate
from tests.topic import read_topic
from tests.waiting import until
from tracker.api.app import create_app
from tracker.api.context import POOL
from tracker.auth import ADMIN, insert_token, new_token
from tracker.db.states import state_row, upsert_states
from tracker.serve import create_topics, worker_running

pytestmark = pytest.mark.integration
DAY_MS, LOCAL_MS = 86_400_000, 8 * 3_600_000
M_LAT = 1 / 111_195  # degrees of latitude a metre (on the sphere the zones are drawn on)


def last_night_ms() -> int:
    """23:00 Beilun time of the last night that has begun: an instant the desk calls night."""
    now = now_ms()
    at = (now + LOCAL_MS) // DAY_MS * DAY_MS + 23 * 3_600_000 - LOCAL_MS
    return at if at <= now else at - DAY_MS


def last_noon_ms() -> int:
    now = now_ms()
    at = (now + LOCAL_MS) // DAY_MS * DAY_MS + 12 * 3_600_000 - LOCAL_MS
    return at if at <= now else at - DAY_MS


@pytest.fixture
async def api(api):
    """The conftest's API; every incident a test leaves open is closed after it, so that its
    zones do not stay live geofences for later tests' workers on the session's database."""
    yield api
    _, page = await api.json("GET", "/v1/incidents?status=open&limit=1000", api.admin_token, expect=200)
    for incident in page["items"]:
        await api.json("PATCH", f"/v1/incidents/{incident['incident_id']}", api.admin_token, expect=200,
                       json={"status": "closed"})


@pytest.fixture
def at_night(monkeypatch):
    monkeypatch.setattr("tracker.api.incidents.now_ms", last_night_ms)


async def place_vehicle(api, plate: str, carrier: str, lat: float, lon: float) -> None:
    """A vehicle's last position as the workers store it."""
    state = VehicleState(plate, carrier_id=carrier, last_ts=now_ms() - 5_000, last_lat=lat, last_lon=lon)
    async with api.client.app[POOL].acquire() as conn:
        await upsert_states(conn, [state_row(state)])


def east_m(lon: float, lat: float, metres: float) -> float:
    return lon + metres / (111_320 * math.cos(math.radians(lat)))


def _tag() -> str:
    return uuid.uuid4().hex[:8]


def site(kind: str, name: str, lon: float, lat: float, **props) -> dict:
    return {"type": "Feature", "geometry": {"type": "Point", "coordinates": [lon, lat]},
            "properties": {"kind": kind, "name": name, **props}}


async def test_sites_are_put_listed_by_kind_and_box_and_deleted(api):
    tag = _tag()
    school = site("school", "测试学校", 121.80, 29.90, people=800, phone="0574-86000000")
    status, stored = await api.json("PUT", f"/v1/sites/s-{tag}", api.admin_token, json=school)
    assert status == 201 and stored["id"] == f"s-{tag}" and stored["properties"]["people"] == 800
    grounds = {"type": "Feature", "geometry": {"type": "Polygon", "coordinates": [[
        [121.81, 29.90], [121.812, 29.90], [121.812, 29.902], [121.81, 29.902], [121.81, 29.90]]]},
        "properties": {"kind": "hospital", "name": "测试医院"}}
    await api.json("PUT", f"/v1/sites/h-{tag}", api.admin_token, expect=201, json=grounds)
    await api.json("PUT", f"/v1/sites/h-{tag}", api.admin_token, expect=200, json=grounds)
    _, listed = await api.json("GET", "/v1/sites?kind=school&bbox=121.79,29.89,121.81,29.91", api.admin_token,
                               expect=200)
    ids = {f["id"] for f in listed["features"]}
    assert f"s-{tag}" in ids and f"h-{tag}" not in ids
    _, moved = await api.json("GET", "/v1/sites?kind=hospital&crs=gcj02", api.admin_token, expect=200)
    ring = next(f for f in moved["features"] if f["id"] == f"h-{tag}")["geometry"]["coordinates"][0]
    assert ring[0] != [121.81, 29.90]  # shifted for Chinese basemaps
    await api.json("DELETE", f"/v1/sites/s-{tag}", api.admin_token, expect=204)
    await api.json("DELETE", f"/v1/sites/s-{tag}", api.admin_token, expect=404)


@pytest.mark.parametrize("body, status", [
    ({"type": "Feature", "geometry": {"type": "Point", "coordinates": [121.8, 29.9]},
      "properties": {"kind": "castle", "name": "x"}}, 422),
    ({"type": "Feature", "geometry": {"type": "LineString", "coordinates": [[121.8, 29.9], [121.9, 29.9]]},
      "properties": {"kind": "school", "name": "x"}}, 422),
    ({"type": "Feature", "geometry": {"type": "Polygon", "coordinates": [[[121.8, 29.9], [121.9, 29.9], [121.8, 29.95]]]},
      "properties": {"kind": "school", "name": "x"}}, 422),  # ring not closed
    ({"type": "Feature", "geometry": {"type": "Point", "coordinates": [121.8, 29.9]},
      "properties": {"kind": "school", "name": "x", "people": -1}}, 422),
])
async def test_bad_sites_are_refused(api, body, status):
    await api.json("PUT", f"/v1/sites/bad-{_tag()}", api.admin_token, expect=status, json=body)


async def test_hazards_are_read_and_the_bureau_overrides_them(api):
    status, chlorine = await api.json("GET", "/v1/hazards/UN1017", api.admin_token, expect=200)
    assert chlorine["name_en"] == "Chlorine" and chlorine["tih"] and chlorine["protective_m"]["large"]["night"] == 6400
    await api.json("GET", "/v1/hazards/9999", api.admin_token, expect=404)
    agency = await api.token("agency", agency="police")
    await api.json("GET", "/v1/hazards/1017", agency, expect=200)
    own = {**chlorine, "un_number": "1791", "name_zh": "次氯酸钠溶液", "name_en": "Hypochlorite solution",
           "class": "8", "guide": "154", "tih": False, "isolation_m": 50, "bleve": False,
           "protective_m": {"small": {"day": 50, "night": 50}, "large": {"day": 100, "night": 100}},
           "fire_isolation_m": 800, "source": "北仑区应急管理局 (test)"}
    _, stored = await api.json("PUT", "/v1/hazards/1791", api.admin_token, expect=200, json=own)
    assert stored == own
    _, read = await api.json("GET", "/v1/hazards/1791", api.admin_token, expect=200)
    assert read["source"] == "北仑区应急管理局 (test)"
    await api.json("PUT", "/v1/hazards/1792", api.admin_token, expect=422, json=own)  # path and body differ
    await api.json("PUT", "/v1/hazards/1791", api.admin_token, expect=422, json={**own, "isolation_m": 0})
    operator = await api.token("operator")
    await api.json("PUT", "/v1/hazards/1791", operator, expect=403, json=own)


def waybill_of(fleet, carrier: str, plate: str, un_number: str, hazard_class: str) -> dict:
    now = now_ms()
    return {"id": f"W-{_tag()}", "plate": plate, "driver_id": fleet.drivers[carrier][0],
            "escort_id": fleet.drivers[carrier][1], "un_number": un_number, "hazard_class": hazard_class,
            "quantity_kg": 20000, "origin": {"name": "Depot", "lat": 29.91, "lon": 121.82},
            "destination": {"name": "Station", "lat": 29.95, "lon": 121.90},
            "route": {"type": "LineString", "coordinates": [[121.82, 29.91], [121.86, 29.93], [121.90, 29.95]]},
            # valid since before the desk's "last night" and "last noon" (up to a day ago)
            "valid_from": rfc3339(now - 26 * 3_600_000), "valid_to": rfc3339(now + 3_600_000)}


async def test_a_chlorine_tanker_at_night_in_a_north_wind(api, fleet, at_night):
    """UN1017 from the tanker's waybill, small spill at night: ERG Table 1 gives 60 m and
    1.5 km; a north wind draws the protective square south, so a school 400 m south is in
    it and one 400 m north is not; the larger spill takes Table 3's tank truck row (600 m, 4.7 km in a
    moderate wind at night)."""
    carrier = fleet.carriers[0]
    tanker, other = fleet.plates[carrier]
    lat, lon = 29.85, 121.85
    await api.json("POST", "/v1/waybills", api.admin_token, expect=201, json=waybill_of(fleet, carrier, tanker, "1017", "2.3"))
    await place_vehicle(api, tanker, carrier, lat, lon)
    await place_vehicle(api, other, carrier, lat - 1000 * M_LAT, lon)  # 1 km south: in the square
    tag = _tag()
    await api.json("PUT", f"/v1/sites/south-{tag}", api.admin_token, expect=201,
                   json=site("school", "南边学校", lon, lat - 400 * M_LAT, people=900))
    await api.json("PUT", f"/v1/sites/north-{tag}", api.admin_token, expect=201,
                   json=site("school", "北边学校", lon, lat + 400 * M_LAT))
    for n in range(6):  # fire stations 2, 3, ... 7 km east: the five nearest respond
        await api.json("PUT", f"/v1/sites/fs{n}-{tag}", api.admin_token, expect=201,
                       json=site("fire_station", f"消防站{n}", east_m(lon, lat, 2000 + 1000 * n), lat))
    status, incident = await api.json("POST", "/v1/incidents", api.admin_token, json={
        "plate": tanker, "kind": "leak", "spill": "small", "wind_from_deg": 0, "wind_speed_ms": 3, "note": "罐车泄漏"})
    assert status == 201, incident
    validate("incident.schema.json", incident)
    assert incident["night"] is True and incident["status"] == "open" and incident["plate"] == tanker
    assert incident["carrier_id"] == carrier and incident["cargo_basis"] == "waybill"
    assert incident["cargo"]["un_number"] == "1017" and incident["cargo"]["name_en"] == "Chlorine"
    zones = incident["zones"]
    assert zones["isolation"]["radius_m"] == 60 and zones["protective"]["distance_m"] == 1500
    assert zones["protective"]["downwind_deg"] == 180 and "fire" not in zones
    ring = zones["protective"]["geometry"]["coordinates"][0]
    assert max(p[1] for p in ring) == pytest.approx(lat, abs=1e-5)  # the upwind side through the point
    assert haversine_m(lat, lon, min(p[1] for p in ring), lon) == pytest.approx(1500, abs=2)
    mine = {s["id"]: s for s in incident["sites"] if s["id"].endswith(tag)}
    assert set(mine) == {f"south-{tag}"} and mine[f"south-{tag}"]["zone"] == "protective"
    assert mine[f"south-{tag}"]["distance_m"] == pytest.approx(400, abs=2)
    assert [v["plate"] for v in incident["vehicles"]] == [other]  # never the incident's own tanker
    assert incident["vehicles"][0]["zone"] == "protective"
    assert [r["id"] for r in incident["responders"]] == [f"fs{n}-{tag}" for n in range(5)]
    assert incident["notes"][0]["text"] == "罐车泄漏" and incident["notes"][0]["by"] == "test admin"

    status, larger = await api.json("PATCH", f"/v1/incidents/{incident['incident_id']}", api.admin_token,
                                    json={"spill": "large"})
    assert status == 200 and larger["zones"]["isolation"]["radius_m"] == 600
    assert larger["zones"]["protective"]["distance_m"] == 4700  # Table 3, night, 3 m/s = 10.8 km/h: moderate
    assert {s["id"]: s["zone"] for s in larger["sites"] if s["id"].endswith(tag) and s["kind"] == "school"} == {
        f"south-{tag}": "isolation", f"north-{tag}": "isolation"}
    _, read = await api.json("GET", f"/v1/incidents/{incident['incident_id']}", api.admin_token, expect=200)
    assert read["zones"] == larger["zones"] and [v["plate"] for v in read["vehicles"]] == [other]


async def test_an_lpg_tanker_fire_by_day(api, monkeypatch):
    monkeypatch.setattr("tracker.api.incidents.now_ms", last_noon_ms)
    status, incident = await api.json("POST", "/v1/incidents", api.admin_token, json={
        "lat": 29.80, "lon": 121.95, "kind": "fire", "un_number": "UN1075"})
    assert status == 201, incident
    assert incident["night"] is False and incident["cargo_basis"] == "given" and incident["plate"] is None
    assert incident["cargo"]["un_number"] == "1075"
    assert incident["zones"]["fire"]["radius_m"] == 1600
    assert incident["zones"]["isolation"]["radius_m"] == 100 and incident["zones"]["protective"]["distance_m"] == 800
    assert incident["zones"]["protective"]["downwind_deg"] is None  # no wind: a circle
    _, moved = await api.json("GET", f"/v1/incidents/{incident['incident_id']}?crs=gcj02", api.admin_token, expect=200)
    lon, lat = wgs84_to_gcj02(121.95, 29.80)
    assert (moved["lon"], moved["lat"]) == (pytest.approx(float(lon)), pytest.approx(float(lat)))
    assert haversine_m(29.80, 121.95, moved["lat"], moved["lon"]) > 300  # for Chinese basemaps
    ring, shifted = (i["zones"]["fire"]["geometry"]["coordinates"][0][0] for i in (incident, moved))
    assert shifted == [pytest.approx(float(c), abs=1e-6) for c in wgs84_to_gcj02(*ring)]


async def test_an_unknown_cargo_takes_the_largest_distances(api):
    _, unknown = await api.json("POST", "/v1/incidents", api.admin_token, expect=201,
                                json={"lat": 29.82, "lon": 121.80, "kind": "rollover"})
    assert unknown["cargo"] is None and unknown["cargo_basis"] == "unknown"
    _, named = await api.json("POST", "/v1/incidents", api.admin_token, expect=201,
                              json={"lat": 29.82, "lon": 121.80, "kind": "rollover", "un_number": "3999"})
    assert named["cargo_basis"] == "given" and "not in the catalogue" in named["cargo"]["source"]
    assert named["zones"]["protective"]["distance_m"] == unknown["zones"]["protective"]["distance_m"]


@pytest.mark.parametrize("body, status", [
    ({"lat": 31.23, "lon": 121.47, "kind": "leak"}, 422),  # Shanghai: outside the district
    ({"lat": 91, "lon": 121.8, "kind": "leak"}, 422),  # outside the world
    ({"lat": 29.85, "kind": "leak"}, 422),
    ({"lat": 29.85, "lon": 121.85, "plate": "浙B12345", "kind": "leak"}, 422),  # two places
    ({"plate": "浙Z99999", "kind": "leak"}, 422),  # not registered
    ({"lat": 29.85, "lon": 121.85, "kind": "leak", "wind_from_deg": 361}, 422),
    ({"lat": 29.85, "lon": 121.85, "kind": "leak", "wind_from_deg": -1}, 422),
    ({"lat": 29.85, "lon": 121.85, "kind": "leak", "wind_speed_ms": -2}, 422),
    ({"lat": 29.85, "lon": 121.85, "kind": "meteor"}, 422),
    ({"lat": 29.85, "lon": 121.85, "kind": "leak", "un_number": "chlorine"}, 422),
    ({"lat": 29.85, "lon": 121.85, "kind": "leak", "note": "x" * 5000}, 422),
    ({"lat": 29.85, "lon": 121.85, "kind": "leak", "spill": "huge"}, 422),
])
async def test_bad_incidents_are_refused(api, body, status):
    response = await api.call("POST", "/v1/incidents", api.admin_token, json=body)
    assert response.status == status, await response.text()
    assert response.headers["Content-Type"].startswith("application/problem+json")


async def test_a_plate_without_a_position_is_refused(api, fleet):
    plate = fleet.plates[fleet.carriers[1]][1]
    _, problem = await api.json("POST", "/v1/incidents", api.admin_token, expect=422, json={"plate": plate, "kind": "leak"})
    assert "no position" in problem["detail"]


async def test_closing_lists_and_who_may_act(api):
    _, older = await api.json("POST", "/v1/incidents", api.admin_token, expect=201,
                              json={"lat": 29.83, "lon": 121.78, "kind": "collision"})
    await api.json("PATCH", f"/v1/incidents/{older['incident_id']}", api.admin_token, expect=200,
                   json={"status": "closed"})
    _, incident = await api.json("POST", "/v1/incidents", api.admin_token, expect=201,
                                 json={"lat": 29.83, "lon": 121.78, "kind": "collision"})
    iid = incident["incident_id"]
    _, listed = await api.json("GET", "/v1/geofences", api.admin_token, expect=200)
    assert not any(f["id"].startswith(f"incident:{iid}") for f in listed["features"])  # the desk's own rows
    square = {"type": "Feature", "geometry": {"type": "Polygon", "coordinates": [[
        [121.7, 29.8], [121.71, 29.8], [121.71, 29.81], [121.7, 29.8]]]}, "properties": {"kind": "parking", "name": "x"}}
    await api.json("PUT", f"/v1/geofences/incident:{iid}:isolation", api.admin_token, expect=409, json=square)
    await api.json("DELETE", f"/v1/geofences/incident:{iid}:isolation", api.admin_token, expect=404)
    police, emergency = await api.token("agency", agency="police"), await api.token("agency", agency="emergency")
    await api.json("PATCH", f"/v1/incidents/{iid}", police, expect=403, json={"note": "x"})
    await api.json("GET", f"/v1/incidents/{iid}", police, expect=200)
    _, noted = await api.json("PATCH", f"/v1/incidents/{iid}", emergency, expect=200, json={"note": "到场"})
    assert noted["notes"][-1]["text"] == "到场"
    _, closed = await api.json("PATCH", f"/v1/incidents/{iid}", emergency, expect=200, json={"status": "closed"})
    assert closed["status"] == "closed" and closed["closed_at"] is not None
    await api.json("PATCH", f"/v1/incidents/{iid}", api.admin_token, expect=409, json={"note": "again"})
    await api.json("GET", "/v1/incidents/i-nothing", api.admin_token, expect=404)
    await api.json("PATCH", "/v1/incidents/i-nothing", api.admin_token, expect=404, json={"note": "x"})
    _, page = await api.json("GET", "/v1/incidents?status=closed&limit=1", police, expect=200)
    assert page["items"][0]["incident_id"] == iid and page["next"]
    _, following = await api.json("GET", f"/v1/incidents?status=closed&limit=1&cursor={page['next']}", police,
                                  expect=200)
    assert all(i["incident_id"] != iid for i in following["items"])
    await api.json("GET", "/v1/incidents?cursor=bad!", police, expect=400)
    _, opened = await api.json("POST", "/v1/incidents", emergency, expect=201,
                               json={"lat": 29.83, "lon": 121.78, "kind": "other"})
    _, listed = await api.json("GET", "/v1/incidents?status=open", api.admin_token, expect=200)
    assert opened["incident_id"] in {i["incident_id"] for i in listed["items"]}
    await api.json("POST", "/v1/incidents", police, expect=403, json={"lat": 29.83, "lon": 121.78, "kind": "other"})


@pytest.fixture
async def desk(aiohttp_client, database_alone, settings):
    """An API on a database of its own, with its topics, and the settings of a worker for
    it: the worker's relay publishes every pending outbox row of its database."""
    settings = settings.with_(database_url=database_alone, worker_group=f"g-{settings.topic_prefix}")
    await create_topics(settings)
    client = await aiohttp_client(ApiTestServer(create_app(settings)))
    token = new_token()
    await insert_token(client.app[POOL], token, ADMIN, "test admin")
    return Api(client, token), settings


async def test_a_tanker_driving_into_the_zone_is_flagged_until_the_incident_closes(desk, topics):
    """The live rule end to end: the incident's zones reach the worker's rules within
    seconds, another tanker's two fixes inside open incident_zone_entry, closing the
    incident closes it; the incident's events are on hazmat.incidents.v1 in order."""
    api, settings = desk
    fleet, body = fleet_body()
    await api.json("PUT", "/v1/registry", api.admin_token, expect=200, json=body)
    carrier = fleet.carriers[0]
    plate = fleet.plates[carrier][0]
    gateway = await api.token("gateway", carrier_id=carrier)
    lat, lon = 29.87, 121.75
    _, incident = await api.json("POST", "/v1/incidents", api.admin_token, expect=201, json={
        "lat": lat, "lon": lon, "kind": "leak", "un_number": "1017", "spill": "small", "wind_from_deg": 0,
        "wind_speed_ms": 2})
    iid = incident["incident_id"]
    t0 = now_ms() - 120_000

    async def drive(*north_m: float, start: int) -> None:
        fixes = [{"plate": plate, "ts": t0 + (start + n) * 10_000, "lat": lat + m * M_LAT, "lon": lon,
                  "speed_kmh": 20, "heading_deg": 180} for n, m in enumerate(north_m)]
        _, answer = await api.json("POST", "/v1/fixes", gateway, expect=202, json=fixes)
        assert not answer["rejected"], answer

    async def entries() -> list[dict]:
        _, page = await api.json("GET", f"/v1/violations?plate={plate}&kind=incident_zone_entry", api.admin_token,
                                 expect=200)
        return page["items"]

    async with worker_running(settings):
        await drive(800, 500, start=0)  # upwind, outside
        await drive(-100, -150, start=2)  # in the square downwind
        opened = await until(entries, timeout_s=20, what="incident_zone_entry opened")
        assert opened[0]["status"] == "open" and opened[0]["severity"] == "high"
        assert opened[0]["details"]["incident_id"] == iid and opened[0]["details"]["zone"] == "protective"
        assert opened[0]["details"]["un_number"] == "1017" and set(opened[0]["agencies"]) == {"police", "emergency"}
        await api.json("PATCH", f"/v1/incidents/{iid}", api.admin_token, expect=200, json={"status": "closed"})

        standing = iter(range(4, 40))

        async def closed() -> list[dict] | None:
            await drive(-150, start=next(standing))  # still there: a fix after the change sees the zones gone
            found = await entries()
            return found if found[0]["status"] == "closed" else None
        done = await until(closed, timeout_s=20, what="incident_zone_entry closed with the incident")
        assert done[0]["details"]["closed_because"] == "incident_closed"
        events = await read_topic(settings.kafka_bootstrap, topics.incidents, 2, wanted=lambda e: e["subject"] == iid)
    for key, event in events:
        validate("incident_event.schema.json", event)
        assert key == iid and event["source"] == "hazmat/incidents"
    assert [(e["id"], e["type"]) for _, e in events] == [
        (f"{iid}.1", "hazmat.incident.opened"), (f"{iid}.2", "hazmat.incident.closed")]
    assert events[1][1]["data"]["status"] == "closed"
