"""The filling cross-check end to end: records and fixes through the API in every order,
the worker deciding presence on the event clock, results in the station view and on the
violation topics."""
from __future__ import annotations

import asyncio
import time

import pytest

from tests.client import fleet_body
from tests.contracts import validate
from tests.topic import read_topic
from tests.waiting import until
from tracker.api.context import POOL
from tracker.serve import create_topics, worker_running

pytestmark = pytest.mark.integration

M_LAT, M_LON = 1 / 110_574, 1 / 96_400
S1 = (29.90, 121.80)
S2 = (29.90, 121.80 + 3000 * M_LON)  # another station 3 km east


def station(sid: str, at: tuple[float, float]) -> dict:
    return {"type": "Feature", "geometry": {"type": "Point", "coordinates": [at[1], at[0]]},
            "properties": {"kind": "filling_station", "name": sid, "station_id": sid, "radius_m": 100}}


def fix(plate: str, ts: int, at: tuple[float, float], east_m: float = 0.0) -> dict:
    return {"plate": plate, "ts": ts, "lat": at[0], "lon": at[1] + east_m * M_LON, "speed_kmh": 0, "heading_deg": 0}


def record(rid: str, plate: str, filled_at: int, driver: str, escort: str, station_id: str = "S1") -> dict:
    return {"id": rid, "station_id": station_id, "plate": plate, "driver_id": driver, "escort_id": escort,
            "un_number": "1203", "hazard_class": "3", "quantity_kg": 18_000, "filled_at": filled_at}


async def test_presence_in_every_order(api, settings, topics):
    settings = settings.with_(worker_group=f"g-{settings.topic_prefix}")
    await create_topics(settings)
    fleet, body = fleet_body()
    await api.json("PUT", "/v1/registry", api.admin_token, expect=200, json=body)
    for sid, at in (("S1", S1), ("S2", S2)):
        await api.json("PUT", f"/v1/geofences/{fleet.carriers[0]}-{sid}", api.admin_token, expect=201,
                       json=station(sid, at))
    c0, c1 = fleet.carriers
    p0, p1 = fleet.plates[c0]
    p2, p3 = fleet.plates[c1]
    d0, d1 = fleet.drivers[c0], fleet.drivers[c1]
    gateways = {c0: await api.token("gateway", carrier_id=c0), c1: await api.token("gateway", carrier_id=c1)}
    s1 = await api.token("station", station_id="S1")
    now = int(time.time() * 1000)
    t_before, t_after, t_late, t_none, t_other = now - 30 * 60_000, now - 5 * 60_000, now - 11 * 60_000, \
        now - 40 * 60_000, now - 60 * 60_000

    async def post_fixes(carrier: str, fixes: list[dict]) -> None:
        status, answer = await api.json("POST", "/v1/fixes", gateways[carrier], json=fixes)
        assert status == 202 and not answer["rejected"], answer

    async with worker_running(settings.with_(database_url=settings.database_url)):
        # the event clock: a vehicle reporting up to now; fix before record (p0 at S1), parked elsewhere (p0 at S2)
        await post_fixes(c0, [fix(p0, t_other, S2), fix(p0, t_before, S1, 40), fix(p0, now - 1000, S1, 40)])

        async def p0_stored():  # "fix before record" means stored before: the group join takes seconds
            return await api.client.app[POOL].fetchval("SELECT count(*) FROM positions WHERE plate = $1", p0) == 3

        await until(p0_stored, 20)
        records = [record("F-before", p0, t_before, *d0), record("F-after", p1, t_after, *d0),
                   record("F-late", p2, t_late, *d1), record("F-none", p3, t_none, *d1),
                   record("F-other", p0, t_other, *d0)]
        status, answer = await api.json("POST", "/v1/filling-records", s1, json=records)
        assert (status, answer["accepted"]) == (202, 5), answer
        await asyncio.sleep(3)
        # record before fix (p1 arrives 2 min after filling), and a fix that is 10 minutes late (p2)
        await post_fixes(c0, [fix(p1, t_after + 120_000, S1, 60)])
        await post_fixes(c1, [fix(p2, t_late, S1, -30)])
        # a station re-posting the same record makes no second record
        status, answer = await api.json("POST", "/v1/filling-records", s1, json=records[0])
        assert answer["accepted"] == 1

        expected = {"F-before": "present", "F-after": "present", "F-late": "present", "F-none": "absent",
                    "F-other": "absent"}
        seen: dict = {}

        async def decided():
            _, view = await api.json("GET", "/v1/filling-records?station_id=S1&limit=1000", api.admin_token, expect=200)
            mine = {r["id"]: r for r in view["items"] if r["plate"] in (p0, p1, p2, p3)}
            seen.update({rid: r["checks"].get("presence") for rid, r in mine.items()})
            return mine if seen == expected else None

        try:
            mine = await until(decided)
        except AssertionError:
            raise AssertionError(f"presence {seen}, expected {expected}") from None
    assert len(mine) == 5
    assert mine["F-none"]["checks"]["presence_details"] == {"vehicle_offline": True}
    assert mine["F-other"]["checks"]["presence_details"]["nearest_distance_m"] > 2500
    assert mine["F-before"]["checks"]["qualified"] is True and mine["F-before"]["filled_at"].endswith("Z")
    _, own = await api.json("GET", "/v1/filling-records", s1, expect=200)
    assert {r["station_id"] for r in own["items"]} == {"S1"}
    assert (await api.call("GET", "/v1/filling-records?station_id=S2", s1)).status == 403
    # every record lacks a waybill; two were absent: 7 violations, each opened and closed (and
    # p0 reappearing at S1 30 min after its fix 3 km away at S2 is an offline_displacement)
    filling = lambda e: e["data"]["kind"].startswith("filling_")  # noqa: E731
    events = await read_topic(settings.kafka_bootstrap, topics.violations, 14, wanted=filling)
    for _, event in events:
        validate("violation_event.schema.json", event)
    kinds = sorted(e["data"]["kind"] for _, e in events if e["type"].endswith("closed"))
    assert kinds == ["filling_no_waybill"] * 5 + ["filling_vehicle_absent"] * 2
    market = await read_topic(settings.kafka_bootstrap, topics.agency("market"), 4)
    assert {e["data"]["kind"] for _, e in market} == {"filling_vehicle_absent"}
