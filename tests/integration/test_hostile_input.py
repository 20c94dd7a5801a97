"""Issue 13's findings, one test each: what an attacker (or a broken client) sent, and the
clear 4xx it now gets instead of a 500, a crash, a silent drop or a wasted CPU."""
from __future__ import annotations

import asyncio
import base64
import gzip
import logging
import time
import zlib

import orjson
import pytest

from tests.client import fleet_body
from tests.contracts import validate
from tests.waiting import until
from tracker.serve import create_topics, worker_running

pytestmark = pytest.mark.integration
HOUR_AHEAD = object()  # a filled_at an hour after now, when the test runs


def now_ms() -> int:
    return int(time.time() * 1000)


XSS = "<img src=x onerror=alert(1)>"


async def problem(response, status: int) -> dict:
    assert response.status == status, (response.status, await response.text())
    assert response.headers["Content-Type"].startswith("application/problem+json")
    body = await response.json(content_type=None)
    validate("problem.schema.json", body)
    return body


@pytest.fixture
async def gateway(api, fleet):
    return await api.token("gateway", carrier_id=fleet.carriers[0])


def _record(fleet, **over) -> dict:
    carrier = fleet.carriers[0]
    driver, escort = fleet.drivers[carrier]
    if over.get("filled_at") is HOUR_AHEAD:
        over["filled_at"] = now_ms() + 3600_000
    return {"id": "R1", "station_id": "S1", "plate": fleet.plates[carrier][0], "driver_id": driver,
            "escort_id": escort, "un_number": "1203", "hazard_class": "3", "quantity_kg": 1000,
            "filled_at": now_ms() - 60_000, **over}


@pytest.mark.parametrize("over, field", [
    ({"filled_at": 1_000_000_000_000_000}, "filled_at"),  # the year 33658: crashed the worker
    ({"filled_at": "9999-12-31T23:59:59-12:00"}, "filled_at"),
    ({"filled_at": HOUR_AHEAD}, "filled_at"),
    ({"id": "R\u0000"}, "id"),
    ({"plate": XSS}, "plate"),
    ({"plate": " "}, "plate"),
    ({"driver_id": "D" * 10_000}, "driver_id"),
    ({"quantity_kg": 1e300}, "quantity_kg"),
])
async def test_filling_records_out_of_the_domain_are_rejected_with_the_field(api, fleet, over, field):
    station = await api.token("station", station_id="S1")
    status, body = await api.json("POST", "/v1/filling-records", station, json=[_record(fleet), _record(fleet, **over)])
    assert status == 202 and body["accepted"] == 1, body
    (rejected,) = body["rejected"]
    assert rejected["index"] == 1 and field in rejected["error"], rejected


@pytest.mark.parametrize("path, body", [
    ("/v1/tokens", {"role": "gateway", "carrier_id": "C\u0000", "label": "x"}),
    ("/v1/tokens", {"role": "operator", "label": "\u0000"}),
    ("/v1/registry", {"carriers": [{"id": "C\u0000", "name": "x"}]}),
    ("/v1/registry", {"carriers": [{"id": "C1", "name": "\u0000"}]}),
    ("/v1/registry", {"vehicles": [{"plate": XSS, "carrier_id": "C1", "tank_capacity_kg": 1, "hazard_classes": ["3"],
                                    "permit_valid_until": "2030-01-01", "tank_inspection_valid_until": "2030-01-01"}]}),
])
async def test_nul_and_markup_in_admin_bodies_are_4xx(api, path, body):
    method = "PUT" if path == "/v1/registry" else "POST"
    response = await api.call(method, path, api.admin_token, json=body)
    assert response.status in (400, 422), await response.text()
    await problem(response, response.status)


@pytest.mark.parametrize("query", [
    "since=%C2%B2", "since=" + "9" * 5000, "since=9999-12-31T23:59:59-12:00", "until=2026-02-30T00:00:00Z",
    "since=1e17", "limit=1001", "limit=-1", "kind=nothing", "cursor=" + base64.urlsafe_b64encode(b'[1e300,"x"]').decode(),
    "cursor=" + base64.urlsafe_b64encode(b"[1,5]").decode(), "cursor=%00", "plate=%00", "bbox=1,2,3,nan",
    "unknown=1", "limit=1&limit=2",
])
async def test_odd_query_parameters_are_400_not_500(api, query):
    body = await problem(await api.call("GET", f"/v1/violations?{query}", api.admin_token), 400)
    assert body["detail"] or body.get("errors")


@pytest.mark.parametrize("query", ["from=%C2%B2", "to=" + "1" * 5000, "from=9999-12-31T23:59:59-12:00"])
async def test_odd_track_times_are_400(api, fleet, query):
    plate = fleet.plates[fleet.carriers[0]][0]
    await problem(await api.call("GET", f"/v1/vehicles/{plate}/track?{query}", api.admin_token), 400)


@pytest.mark.parametrize("query, field", [  # issue 25: a day or month the calendar or the time range has no end for
    ("period=day&date=9999-12-31", "date"), ("period=month&date=9999-12", "date"),
    ("period=day&date=0001-01-01", "date"), ("period=month&date=0001-01", "date"),
    ("period=day&date=0000-01-01", "date"), ("period=day&date=1999-12-31", "date"),
    ("period=day&date=2100-01-01", "date"), ("period=month&date=2100-01", "date"),
    ("period=day&date=2026-11-10&carrier_id=%00", "carrier_id"), ("period=day%00&date=2026-11-10", "period"),
    ("period=day&date=2026-11-10%00", "date"), ("period=day&date=2026-11-10&carrier_id=C1%0A", "carrier_id"),
])
async def test_report_periods_off_the_calendar_and_nul_are_400_naming_the_parameter(api, query, field):
    body = await problem(await api.call("GET", f"/v1/reports/kpis?{query}", api.admin_token), 400)
    assert [e.get("field") for e in body["errors"]] == [field], body


async def test_the_first_and_last_periods_of_the_time_range_are_reported(api):
    for query in ("period=day&date=2000-01-01", "period=month&date=2099-12", "period=day&date=2028-02-29"):
        await api.json("GET", f"/v1/reports/kpis?{query}", api.admin_token, expect=200)


@pytest.mark.parametrize("which", ["stops", "trips"])
@pytest.mark.parametrize("query", ["date=9999-12-31", "date=0001-01-01", "date=2100-01-01", "date=2026-11-10%00"])
async def test_a_vehicles_day_off_the_calendar_is_400(api, fleet, which, query):
    plate = fleet.plates[fleet.carriers[0]][0]
    body = await problem(await api.call("GET", f"/v1/vehicles/{plate}/{which}?{query}", api.admin_token), 400)
    assert [e.get("field") for e in body["errors"]] == ["date"], body


@pytest.mark.parametrize("path, field", [  # a NUL is refused in any parameter, before anything meets SQL
    ("/v1/vehicles/%E6%B5%99B12345%00/stops?date=2026-11-10", "plate"), ("/v1/vehicles/%00", "plate"),
    ("/v1/violations?kind=speeding%00", "kind"), ("/v1/violations?cursor=%00", "cursor"),
    ("/v1/vehicles?carrier_id=C1%00", "carrier_id"), ("/v1/geofences?kind=parking%00", "kind"),
    ("/v1/violations/v%00", "id"), ("/v1/filling-records?station_id=S1%00", "station_id"),
    ("/v1/terminals?connected=true%00", "connected"),
])
async def test_nul_in_any_parameter_is_400_naming_it(api, path, field):
    body = await problem(await api.call("GET", path, api.admin_token), 400)
    assert [e.get("field") for e in body["errors"]] == [field], body


async def test_waybills_bounded_and_people_of_the_own_carrier_only(api, fleet, gateway):
    carrier, other = fleet.carriers
    plate = fleet.plates[carrier][0]
    base = {"id": "W-hostile", "plate": plate, "driver_id": fleet.drivers[carrier][0],
            "escort_id": fleet.drivers[carrier][1], "un_number": "1203", "hazard_class": "3", "quantity_kg": 1000,
            "origin": {"name": "A", "lat": 29.9, "lon": 121.8}, "destination": {"name": "B", "lat": 29.95, "lon": 121.9},
            "route": {"type": "LineString", "coordinates": [[121.8, 29.9], [121.9, 29.95]]},
            "valid_from": now_ms() - 3600_000, "valid_to": now_ms() + 3600_000}
    for over in ({"valid_to": 1e17}, {"id": "W\u0000"}, {"origin": {"name": "\u0000", "lat": 29.9, "lon": 121.8}},
                 {"driver_id": fleet.drivers[other][0]}, {"escort_id": fleet.drivers[carrier][0]}):
        response = await api.call("POST", "/v1/waybills", gateway, json={**base, **over})
        assert response.status in (400, 422), (over, await response.text())
    await api.json("POST", "/v1/waybills", gateway, expect=201, json=base)


async def test_two_stations_may_use_the_same_record_id(api, fleet, settings):
    settings = settings.with_(worker_group=f"g-{settings.topic_prefix}")
    await create_topics(settings)
    tokens = [await api.token("station", station_id=s) for s in ("S1", "S2")]
    for token, station in zip(tokens, ("S1", "S2")):
        await api.json("POST", "/v1/filling-records", token, expect=202, json=_record(fleet, station_id=station))
    async with worker_running(settings):
        async def both_stored():
            _, page = await api.json("GET", "/v1/filling-records?limit=100", api.admin_token, expect=200)
            return {(r["station_id"], r["id"]) for r in page["items"]} >= {("S1", "R1"), ("S2", "R1")}

        await until(both_stored, 30, "both stations' record R1 stored")


async def test_compressed_bodies_inflate_only_for_the_authenticated_and_within_the_limit(api, gateway, settings):
    bomb = gzip.compress(b"[" + b" " * (64 * 1024 * 1024) + b"]", compresslevel=9)  # 64 MiB from ~64 KiB
    headers = {"Content-Type": "application/json", "Content-Encoding": "gzip"}
    await problem(await api.call("POST", "/v1/fixes", None, data=bomb, headers=headers), 401)
    await problem(await api.call("POST", "/v1/fixes", "nonsense", data=bomb, headers=headers), 401)
    await problem(await api.call("POST", "/v1/fixes", gateway, data=bomb, headers=headers), 413)
    small = gzip.compress(b"[]")
    response = await api.call("POST", "/v1/fixes", gateway, data=small, headers=headers)
    assert response.status == 202, await response.text()
    deflated = zlib.compress(b"[]")
    response = await api.call("POST", "/v1/fixes", gateway, data=deflated,
                              headers={**headers, "Content-Encoding": "deflate"})
    assert response.status == 202, await response.text()
    await problem(await api.call("POST", "/v1/fixes", gateway, data=b"\x1f\x8bnot gzip", headers=headers), 400)
    await problem(await api.call("POST", "/v1/fixes", gateway, data=b"[]",
                                 headers={**headers, "Content-Encoding": "br"}), 415)


async def test_content_type_must_be_json(api, gateway):
    await problem(await api.call("POST", "/v1/fixes", gateway, data=b"[]", headers={"Content-Type": "text/plain"}), 415)
    response = await api.call("POST", "/v1/fixes", gateway, data=b"[]",
                              headers={"Content-Type": "application/json; charset=utf-8"})
    assert response.status == 202


async def test_duplicate_json_keys_are_refused(api, fleet, gateway):
    plate = fleet.plates[fleet.carriers[0]][0]
    body = ('[{"plate": "%s", "ts": %d, "lat": 29.9, "lat": 30.5, "lon": 121.8, "speed_kmh": 1, "heading_deg": 0}]'
            % (plate, now_ms())).encode()
    problem_body = await problem(await api.call("POST", "/v1/fixes", gateway, data=body,
                                                headers={"Content-Type": "application/json"}), 400)
    assert "twice" in problem_body["detail"]


async def test_405_says_what_is_allowed_and_every_answer_is_nosniff(api):
    response = await api.call("PATCH", "/v1/fixes")
    await problem(response, 405)
    assert "POST" in response.headers["Allow"]
    assert response.headers["X-Content-Type-Options"] == "nosniff"
    response = await api.call("GET", "/healthz")
    assert response.headers["X-Content-Type-Options"] == "nosniff"


async def test_parser_level_errors_are_problem_json(api, caplog):
    host, port = api.client.server.host, api.client.server.port
    reader, writer = await asyncio.open_connection(host, port)
    try:
        writer.write(b"GET /v1/violations HTTP/1.1\r\nHost: x\r\nX-Long: " + b"a" * 20_000 + b"\r\n\r\n")
        await writer.drain()
        answer = await asyncio.wait_for(reader.read(65536), 10)
    finally:
        writer.close()
    head, _, body = answer.partition(b"\r\n\r\n")
    assert head.split(b" ")[1] in (b"400", b"431"), head
    assert b"application/problem+json" in head.lower()
    assert orjson.loads(body)["status"] in (400, 431)
    assert not any(record.exc_info for record in caplog.records), "one line, no traceback to repeat at will"


async def test_paths_are_logged_without_raw_newlines(api, caplog):
    with caplog.at_level(logging.INFO):
        await api.call("GET", "/v1/vehicles/%0Aforged%20line/track", api.admin_token)
        await api.call("GET", "/v1/geofences/%0Aforged", api.admin_token)
    assert not any("\nforged" in record.getMessage() for record in caplog.records)


async def test_overlong_tokens_are_refused_without_hashing(api):
    await problem(await api.call("GET", "/v1/violations", "x" * 6000), 401)


async def test_a_large_geofence_does_not_stall_the_event_loop(api):
    """A large area is covered with H3 cells when it is written, off the API's event loop:
    the loop keeps turning (here a ticker; in the API, every other request). Workers then
    load the stored cover instead of computing it again."""
    from tracker.api.context import POOL
    from tracker.workers.references import References
    ring = [[121.5, 29.6], [121.95, 29.6], [121.95, 30.05], [121.5, 30.05], [121.5, 29.6]]  # ~2 200 km2
    feature = {"type": "Feature", "geometry": {"type": "Polygon", "coordinates": [ring]},
               "properties": {"kind": "chem_park", "name": "large"}}
    ticks = 0

    async def ticker():
        nonlocal ticks
        while True:
            await asyncio.sleep(0.005)
            ticks += 1

    ticking = asyncio.create_task(ticker())
    try:
        await api.json("PUT", "/v1/geofences/large-park", api.admin_token, expect=201, json=feature)
    finally:
        ticking.cancel()
    assert ticks >= 10, "the loop turned while the cover was computed"
    stored = await api.client.app[POOL].fetchval(
        "SELECT cardinality(cover_interior) FROM geofences WHERE id = 'large-park'")
    refs = References(max_age_s=0.0)
    await refs.refresh(api.client.app[POOL])
    assert len(refs.index._cells["large-park"][0]) == stored > 10_000


async def test_invalid_plates_never_reach_the_caches(api, gateway):
    from streams.fix import _normalised
    before = _normalised.cache_info().currsize
    huge = "浙B" + "1" * 1_000_000
    status, body = await api.json("POST", "/v1/fixes", gateway,
                                  json=[{"plate": huge, "ts": now_ms(), "lat": 29.9, "lon": 121.8, "speed_kmh": 1,
                                         "heading_deg": 0}])
    assert status == 202 and body["rejected"][0]["index"] == 0
    assert _normalised.cache_info().currsize == before, "the refused plate was not normalised nor kept"


def test_fleet_body_plates_are_valid_plates():
    from streams.fix import valid_plate
    fleet, _ = fleet_body()
    assert all(valid_plate(p) for plates in fleet.plates.values() for p in plates)


@pytest.mark.parametrize("properties", [
    {"kind": "restricted_road", "name": "road", "buffer_m": 2.2e-311},  # found by make fuzz: an empty area, a 500
    {"kind": "restricted_road", "name": "road", "x\u0000": 1},  # found by make fuzz: jsonb cannot hold NUL
])
async def test_geofences_make_fuzz_found(api, properties):
    feature = {"type": "Feature", "geometry": {"type": "LineString", "coordinates": [[121.8, 29.9], [121.81, 29.9]]},
               "properties": properties}
    await problem(await api.call("PUT", "/v1/geofences/fuzzed", api.admin_token, json=feature), 422)
