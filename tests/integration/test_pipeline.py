"""End to end: fixes posted through the API, one worker, violations read back from
GET /v1/violations and from the violation topics, all against the real broker and PostGIS."""
from __future__ import annotations

import time

import pytest

from streams.times import local_midnight
from tests.client import fleet_body
from tests.contracts import validate
from tests.topic import read_topic
from tests.waiting import until
from tracker.api.context import POOL

pytestmark = pytest.mark.integration

M_LAT, M_LON = 1 / 110_574, 1 / 96_400  # metres to degrees near 29.9 N
LAT0, LON0 = 29.90, 121.80


def fix(plate: str, t: int, east_m: float, north_m: float, speed: float) -> dict:
    return {"plate": plate, "ts": t, "lat": LAT0 + north_m * M_LAT, "lon": LON0 + east_m * M_LON,
            "speed_kmh": speed, "heading_deg": 90}


async def test_a_few_minutes_of_three_vehicles_yield_the_expected_violations(api, settings, topics, worker):
    fleet, body = fleet_body()
    await api.json("PUT", "/v1/registry", api.admin_token, expect=200, json=body)
    carrier = fleet.carriers[0]
    speeder, parker, jumper = fleet.plates[carrier][0], fleet.plates[carrier][1], fleet.plates[fleet.carriers[1]][0]
    ring = [[LON0 + x * M_LON, LAT0 + y * M_LAT] for x, y in ((-50, -50), (50, -50), (50, 50), (-50, 50), (-50, -50))]
    await api.json("PUT", "/v1/geofences/bridge-1", api.admin_token, expect=201, json={
        "type": "Feature", "geometry": {"type": "Polygon", "coordinates": [ring]},
        "properties": {"kind": "no_stopping", "name": "Bridge"}})
    async def worker_knows_the_bridge():
        return "bridge-1" in worker.index.geofences

    await until(worker_knows_the_bridge, 10)  # geofence changes reach a running worker within seconds
    # 10:00 local, hours ago: no night rules; the fleet falls silent after the track, so the
    # clock (wall time once the worker is idle) opens `offline` for the vehicles left moving.
    now = int(time.time() * 1000)
    t0 = local_midnight(now) + 10 * 3600_000
    if t0 > now - 3600_000:
        t0 -= 24 * 3600_000
    fixes = {
        # 70 km/h for 60 s on a 60 km/h road, then 50 km/h: speeding opened and closed
        speeder: [fix(speeder, t0 + s * 1000, 2000 + 19.4 * s, 500, 70) for s in range(0, 61, 5)]
        + [fix(speeder, t0 + s * 1000, 3170 + 13.9 * (s - 60), 500, 50) for s in range(65, 131, 5)],
        # stands on the bridge for 3 minutes: no_stopping, then drives off
        parker: [fix(parker, t0 + s * 1000, 5, 5, 0) for s in range(0, 181, 30)]
        + [fix(parker, t0 + 190_000 + s * 1000, 200 + 14 * s, 5, 50) for s in range(0, 31, 10)],
        # one fix 20 km away 10 s later: gps_jump
        jumper: [fix(jumper, t0, 9000, 9000, 40), fix(jumper, t0 + 10_000, 29000, 9000, 40),
                 fix(jumper, t0 + 20_000, 9100, 9000, 40)],
    }
    for plates in (fleet.plates[carrier], fleet.plates[fleet.carriers[1]]):
        gateway = await api.token("gateway", carrier_id=fleet.carriers[0 if plates is fleet.plates[carrier] else 1])
        items = [f for p in plates for f in fixes.get(p, [])]
        status, answer = await api.json("POST", "/v1/fixes", gateway, json=items)
        assert status == 202 and not answer["rejected"], answer

    expected = {(speeder, "speeding"), (parker, "no_stopping"), (jumper, "gps_jump")}

    async def closed_ones():
        _, page = await api.json("GET", "/v1/violations?status=closed&limit=1000", api.admin_token, expect=200)
        found = {(v["plate"], v["kind"]) for v in page["items"] if v["plate"] in fixes}
        _, everything = await api.json("GET", "/v1/violations?limit=1000", api.admin_token, expect=200)
        seen.clear()
        seen.update((v["plate"], v["kind"], v["status"]) for v in everything["items"] if v["plate"] in fixes)
        return page if expected <= found else None

    seen: set = set()
    try:
        page = await until(closed_ones)
    except AssertionError:
        raise AssertionError(f"expected {expected}, stored {seen}") from None
    mine = [v for v in page["items"] if v["plate"] in fixes]
    for violation in mine:
        validate("violation.schema.json", violation)
    assert {(v["plate"], v["kind"]) for v in mine} == expected  # nothing that did not happen
    speeding = next(v for v in mine if v["kind"] == "speeding")
    assert speeding["details"]["max_speed_kmh"] == 70 and speeding["details"]["limit_kmh"] == 60
    no_stopping = next(v for v in mine if v["kind"] == "no_stopping")
    assert no_stopping["geofence_id"] == "bridge-1" and "emergency" in no_stopping["agencies"]

    events = await read_topic(settings.kafka_bootstrap, topics.violations, 6,
                              wanted=lambda e: e["data"]["kind"] != "offline")
    for key, event in events:
        validate("violation_event.schema.json", event)
        assert key == event["subject"]
    assert {(e["data"]["violation_id"], e["type"].rsplit(".", 1)[1]) for _, e in events} == {
        (v["violation_id"], kind) for v in mine for kind in ("opened", "closed")}
    police = await read_topic(settings.kafka_bootstrap, topics.agency("police"), 4)
    assert {e["data"]["kind"] for _, e in police} == {"speeding", "no_stopping"}

    metrics = await (await api.call("GET", "/metrics")).text()
    assert f'hazmat_worker_records_total{{group="{worker.group}"}}' in metrics
    assert 'hazmat_violation_events_total{kind="gps_jump",type="opened"}' in metrics
    _, one = await api.json("GET", f"/v1/violations/{speeding['violation_id']}", api.admin_token, expect=200)
    assert one == speeding
    agency = await api.token("agency", agency="market")
    assert (await api.call("GET", f"/v1/violations/{speeding['violation_id']}", agency)).status == 404
    count = await api.client.app[POOL].fetchval("SELECT count(*) FROM positions WHERE plate = ANY($1::text[])",
                                                list(fixes))
    assert count == sum(len(v) for v in fixes.values()) - 1  # the jump is kept out


async def test_a_vehicle_moved_to_another_carrier_has_its_new_violations_charged_to_it(api, topics, worker):
    """A registry change reaches the worker with the fixes: the intake stamps each fix with
    the carrier the registry names when it is accepted, and the rules follow the fixes."""
    fleet, body = fleet_body()
    await api.json("PUT", "/v1/registry", api.admin_token, expect=200, json=body)
    old, new = fleet.carriers
    plate = fleet.plates[old][0]
    now = int(time.time() * 1000)
    t0 = local_midnight(now) + 10 * 3600_000
    if t0 > now - 3600_000:
        t0 -= 24 * 3600_000

    def speeding_episode(start: int, east0: float) -> list[dict]:
        return ([fix(plate, start + s * 1000, east0 + 19.4 * s, 500, 70) for s in range(0, 61, 5)]
                + [fix(plate, start + s * 1000, east0 + 1170 + 13.9 * (s - 60), 500, 50) for s in range(65, 131, 5)])

    async def speeding_carriers(n: int):
        _, page = await api.json("GET", f"/v1/violations?plate={plate}&kind=speeding&status=closed",
                                 api.admin_token, expect=200)
        items = sorted(page["items"], key=lambda v: v["started_at"])
        return [v["carrier_id"] for v in items] if len(items) == n else None

    status, answer = await api.json("POST", "/v1/fixes", await api.token("gateway", carrier_id=old),
                                    json=speeding_episode(t0, 0))
    assert status == 202 and not answer["rejected"], answer
    assert await until(lambda: speeding_carriers(1)) == [old]
    moved = next(dict(v, carrier_id=new) for v in body["vehicles"] if v["plate"] == plate)
    await api.json("PUT", "/v1/registry", api.admin_token, expect=200, json={"vehicles": [moved]})
    status, answer = await api.json("POST", "/v1/fixes", await api.token("gateway", carrier_id=new),
                                    json=speeding_episode(t0 + 300_000, 5000))
    assert status == 202 and not answer["rejected"], answer
    assert await until(lambda: speeding_carriers(2)) == [old, new]
