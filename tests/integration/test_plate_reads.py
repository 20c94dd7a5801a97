"""Checkpoint cameras end to end: reads through the API and the shared intake, the read
worker judging them on the fix workers' clocks (gps_missing, unregistered_vehicle,
cloned_plate), the reads of a vehicle, and hostile reads refused and dead-lettered."""
from __future__ import annotations

import asyncio
import uuid

import pytest

from streams.kafka import partition_for
from streams.times import local_day, local_midnight, now_ms, utc
from tests.client import fleet_body
from tests.contracts import validate
from tests.topic import read_topic, topic_is_empty
from tests.waiting import until
from tracker.api.context import POOL
from tracker.serve import create_topics, worker_running

pytestmark = pytest.mark.integration

M_LAT, M_LON = 1 / 110_574, 1 / 96_400
GATE = (29.90, 121.80)
ROAD = (29.90, 121.80 + 40_000 * M_LON)  # 40 km east
MIN = 60_000
CHECKPOINT_KINDS = ("gps_missing", "unregistered_vehicle", "cloned_plate")


def point(cid: str, at: tuple[float, float], name: str) -> tuple[str, dict]:
    return cid, {"type": "Feature", "geometry": {"type": "Point", "coordinates": [at[1], at[0]]},
                 "properties": {"name": name, "road": "G1501", "direction_deg": 90}}


def fix(plate: str, ts: int, at: tuple[float, float], east_m: float = 0.0) -> dict:
    return {"plate": plate, "ts": ts, "lat": at[0], "lon": at[1] + east_m * M_LON, "speed_kmh": 30,
            "heading_deg": 90, "alarm_flags": 0}


def read(rid: str, cid: str, plate: str, ts: int, confidence: float = 0.95, **extra) -> dict:
    return {"id": rid, "checkpoint_id": cid, "plate": plate, "ts": ts, "confidence": confidence, **extra}


async def test_reads_are_judged_on_the_vehicles_own_time(api, settings, topics):
    settings = settings.with_(worker_group=f"g-{settings.topic_prefix}")
    await create_topics(settings)
    fleet, body = fleet_body()
    await api.json("PUT", "/v1/registry", api.admin_token, expect=200, json=body)
    tag = uuid.uuid4().hex[:4].upper()
    gate, road = f"K{tag}-gate", f"K{tag}-road"
    for cid, feature in (point(gate, GATE, "北仑化工园区北门"), point(road, ROAD, "G1501 卡口")):
        await api.json("PUT", f"/v1/checkpoints/{cid}", api.admin_token, expect=201, json=feature)
    plates = [p for c in fleet.carriers for p in fleet.plates[c]]
    carrier_of = {p: c for c in fleet.carriers for p in fleet.plates[c]}
    # The dark vehicle and a pacer on its partition: the pacer's fixes carry the partition's time
    # past the read's window, as a live fleet's do (the dark one's own fixes stopped 30 min ago).
    home = {p: partition_for(p.encode(), range(settings.topic_partitions)) for p in plates}
    dark, pacer = next((a, b) for a in plates for b in plates if a != b and home[a] == home[b])
    late, cloned = [p for p in plates if p not in (dark, pacer)]
    unknown = f"浙B{uuid.uuid4().hex[:5].upper()}"
    gateways = {c: await api.token("gateway", carrier_id=c) for c in fleet.carriers}
    camera = await api.token("camera", checkpoint_id=gate)
    now = now_ms()
    t_read = now - 12 * MIN

    async def post_fixes(fixes: list[dict]) -> None:
        for carrier in fleet.carriers:
            mine = [f for f in fixes if carrier_of[f["plate"]] == carrier]
            if mine:
                status, answer = await api.json("POST", "/v1/fixes", gateways[carrier], json=mine)
                assert status == 202 and not answer["rejected"], answer

    async def post_reads(token: str, reads: list[dict], accepted: int) -> None:
        status, answer = await api.json("POST", "/v1/plate-reads", token, json=reads)
        assert (status, answer["accepted"], answer["rejected"]) == (202, accepted, []), answer

    async with worker_running(settings):
        await post_fixes([fix(dark, now - (45 - m) * MIN, GATE, 3000) for m in range(0, 16, 3)])
        # the late vehicle's read comes before the fixes around it
        await post_reads(camera, [read("R-dark", gate, dark, t_read), read("R-late", gate, late, t_read),
                                  read("R-unknown-1", gate, unknown, t_read, plate_color="yellow", lane=2,
                                       image_url="https://cams.example.cn/r1.jpg"),
                                  read("R-blurred", gate, dark, t_read + MIN, confidence=0.5),
                                  read("R-clone-1", gate, cloned, now - 20 * MIN)], 5)
        await asyncio.sleep(2)
        await post_fixes([fix(late, t_read + s * MIN, GATE, 200 + 100 * s) for s in range(-2, 8)])

        async def late_stored():
            return await api.client.app[POOL].fetchval("SELECT count(*) FROM positions WHERE plate = $1", late) == 10

        await until(late_stored, 30)
        await post_fixes([fix(pacer, now - 1000, GATE, 9000)])
        await post_reads(camera, [read("R-dark", gate, dark, t_read)], 1)  # a repeat: accepted, ignored
        # (the unregistered plate's second read, the same local day as its first: one verdict)
        await post_reads(api.admin_token, [read("R-unknown-2", gate, unknown, max(t_read - 60 * MIN,
                                                                                  local_midnight(t_read))),
                                           read("R-clone-2", road, cloned, now - 10 * MIN)], 2)

        async def decided():
            rows = await api.client.app[POOL].fetch(
                "SELECT id, matched, checks FROM plate_reads WHERE checkpoint_id = ANY($1::text[])", [gate, road])
            got = {r["id"]: (r["matched"], r["checks"].get("gps")) for r in rows}
            # (and the last two reads judged at all: their verdicts are checked once the worker has stopped)
            return got if got.get("R-dark", (None,))[0] is not None and got.get("R-late", (None,))[0] is not None \
                and {"R-unknown-2", "R-clone-2"} <= set(got) else None

        got = await until(decided, 60, "the dark and the late reads decided, the last reads judged")
    assert got["R-dark"] == (False, "missing") and got["R-late"] == (True, "matched")
    assert got["R-blurred"] == (None, "low_confidence") and got["R-unknown-1"] == (None, "unregistered")

    pool = api.client.app[POOL]

    async def verdicts():
        rows = await pool.fetch("SELECT plate, kind, count(*) AS n FROM violations WHERE plate = ANY($1::text[]) "
                                "AND kind = ANY($2::text[]) GROUP BY plate, kind", [dark, late, unknown, cloned],
                                list(CHECKPOINT_KINDS))
        got = {(r["plate"], r["kind"]): r["n"] for r in rows}
        return got if {(dark, "gps_missing"), (unknown, "unregistered_vehicle"), (cloned, "cloned_plate")} <= set(got) \
            else None

    counts = await until(verdicts, 30, "the verdicts stored")
    await asyncio.sleep(3)  # (anything more would have come by now)
    counts = await verdicts()
    assert counts[(dark, "gps_missing")] == 1 and counts[(unknown, "unregistered_vehicle")] == 1
    assert counts[(cloned, "cloned_plate")] == 1 and not any(plate == late for plate, _ in counts)
    # (the cloned plate's reads have no fixes around them: each may be gps_missing as well)
    wanted = lambda e: e["data"]["kind"] in CHECKPOINT_KINDS and e["type"].endswith("closed")  # noqa: E731
    events = await read_topic(settings.kafka_bootstrap, topics.violations, sum(counts.values()), wanted=wanted)
    for _, event in events:
        validate("violation_event.schema.json", event)
    by_kind = {(e["data"]["plate"], e["data"]["kind"]): e["data"] for _, e in events}
    missing = by_kind[(dark, "gps_missing")]
    assert missing["severity"] == "medium" and missing["details"]["checkpoint_id"] == gate
    assert missing["agencies"] == ["police", "transport"] and missing["started_at"] == missing["ended_at"]
    assert 2900 < missing["details"]["last_fix_distance_m"] < 3100 and missing["details"]["last_fix_at"]
    clone = by_kind[(cloned, "cloned_plate")]
    assert clone["details"]["implied_speed_kmh"] > 150 and clone["agencies"] == ["police", "emergency"]
    police = await read_topic(settings.kafka_bootstrap, topics.agency("police"), 2 * sum(counts.values()),
                              wanted=lambda e: e["data"]["kind"] in CHECKPOINT_KINDS)
    assert {e["data"]["kind"] for _, e in police} == set(CHECKPOINT_KINDS)
    reads_topic = await read_topic(settings.kafka_bootstrap, topics.plate_reads, 8)  # (the repeat is published too)
    assert {k for k, _ in reads_topic} == {dark, late, unknown, cloned}
    assert all("received_at" in value for _, value in reads_topic)

    _, answer = await api.json("GET", f"/v1/vehicles/{dark}/reads", api.admin_token, expect=200)
    assert [(r["id"], r["matched"], r["checkpoint_name"]) for r in answer["items"]] == [
        ("R-blurred", None, "北仑化工园区北门"), ("R-dark", False, "北仑化工园区北门")]
    assert answer["items"][1]["ts"].endswith("Z")
    # The KPI's day is the reads' local day (near local midnight it is not today's).
    day, midnight = local_day(t_read), local_midnight(t_read)
    _, kpis = await api.json("GET", f"/v1/reports/kpis?period=day&date={day}&carrier_id={carrier_of[dark]}",
                             api.admin_token, expect=200)
    decided_reads = await pool.fetch("SELECT r.matched FROM plate_reads r JOIN vehicles v USING (plate) WHERE "
                                     "v.carrier_id = $1 AND r.matched IS NOT NULL AND r.ts >= $2 AND r.ts < $3",
                                     carrier_of[dark], utc(midnight), utc(midnight + 86_400_000))
    rate = kpis["figures"]["checkpoint_match_rate"]
    assert (rate["numerator"], rate["denominator"]) == (sum(r["matched"] for r in decided_reads), len(decided_reads))
    assert rate["denominator"] >= 1 and "1 km" in rate["definition"]
    _, collection = await api.json("GET", "/v1/checkpoints?bbox=121.7,29.8,121.9,30.0&crs=gcj02", api.admin_token,
                                   expect=200)
    assert gate in {f["id"] for f in collection["features"]} and road not in {f["id"] for f in collection["features"]}


async def test_only_the_checked_kinds_reach_the_topics_once(api, settings, topics):
    """No gps_missing or unregistered twice: a whole day's repeated reads of one unknown plate."""
    await create_topics(settings)
    cid = f"K{uuid.uuid4().hex[:6]}"
    await api.json("PUT", f"/v1/checkpoints/{cid}", api.admin_token, expect=201, json=point(cid, GATE, "东门")[1])
    unknown = f"浙B{uuid.uuid4().hex[:5].upper()}"
    now = now_ms()
    reads = [read(f"U{n}", cid, unknown, now - n * MIN) for n in range(5)]
    settings = settings.with_(worker_group=f"g-{settings.topic_prefix}")
    async with worker_running(settings):
        status, answer = await api.json("POST", "/v1/plate-reads", api.admin_token, json=reads[:3])
        assert status == 202 and answer["accepted"] == 3
        await asyncio.sleep(2)
        status, answer = await api.json("POST", "/v1/plate-reads", api.admin_token, json=reads[3:])
        events = await read_topic(settings.kafka_bootstrap, topics.violations, 2)
        assert [e["data"]["kind"] for _, e in events] == ["unregistered_vehicle"] * 2
        await asyncio.sleep(3)
    assert await topic_is_empty(settings.kafka_bootstrap, topics.agency("market"))
    count = await api.client.app[POOL].fetchval(
        "SELECT count(*) FROM violations WHERE plate = $1 AND kind = 'unregistered_vehicle'", unknown)
    assert count == 1
