"""No phantom alarms after an outage (issue 21): a day's backlog, read unevenly, then the
stations' filling records.

Fifty vehicles report every minute for a day on 8 partitions. The first hour is consumed;
then one partition's consumption is held back while the rest of the day is posted in time
order in batches of 500 (as a carrier platform catching up does) and consumed on the
other seven, and the filling records follow. Only then is the held partition released.
Judged on each vehicle's own partition's time: no `offline` and nothing withdrawn for
vehicles that reported throughout, the vehicle that really went silent for 45 min gets its
`offline` from the moment its silence began, and the tanker parked at the station while
its partition was held back is found there, not `filling_vehicle_absent`.
"""
from __future__ import annotations

import asyncio
import math
import time

import orjson
import pytest
from aiokafka import TopicPartition

from streams.kafka import Publisher, partition_for
from tests.client import Api, ApiTestServer
from tests.members import member_running
from tests.scenario import M_LAT, M_LON, plates, publish_in_chunks, register_carrier
from tests.waiting import until
from tracker.api.app import create_app
from tracker.api.context import POOL
from tracker.auth import ADMIN, insert_token, new_token
from tracker.serve import create_topics
from tracker.workers.filling import FillingWorker
from tracker.workers.fixes import Worker

pytestmark = pytest.mark.integration

MINUTE = 60_000
STATION = (29.70, 121.70)
PARTITIONS = 8


def position(vehicle: int, k: int, parked_at_station: bool) -> tuple[float, float, float]:
    """(lat, lon, speed) of vehicle `vehicle` at minute `k`: circling 1 km around its own
    centre at 30 km/h (the first two around the station), or parked at the station."""
    if parked_at_station:
        return STATION[0], STATION[1], 0.0
    centre_north = 0.0 if vehicle < 2 else 3000.0 + vehicle * 400
    angle = k * 0.5
    north, east = centre_north + 1000 * math.sin(angle), 1000 * math.cos(angle)
    return STATION[0] + north * M_LAT, STATION[1] + east * M_LON, 30.0


def day(fleet: list[str], carrier: str, t0: int, silent: str, parks: dict[str, range]) -> list[dict]:
    """Every vehicle every minute for 24 h, in time order; `silent` reports nothing for
    45 min from hour 12 (while driving); `parks[plate]` are its minutes at the station."""
    out = []
    for k in range(24 * 60):
        for v, plate in enumerate(fleet):
            if plate == silent and 12 * 60 < k <= 12 * 60 + 45:
                continue
            lat, lon, speed = position(v, k, k in parks.get(plate, ()))
            out.append({"plate": plate, "ts": t0 + k * MINUTE, "lat": lat, "lon": lon, "speed_kmh": speed,
                        "heading_deg": 90.0, "carrier_id": carrier, "source": "http"})
    return out


def received_now(fixes: list[dict]) -> list[dict]:
    """As the intake publishes them: received now (the platform posts its backlog late)."""
    now = int(time.time() * 1000)
    return [dict(f, received_at=now) for f in fixes]


def filling(rid: str, plate: str, filled_at: int) -> dict:
    return {"id": rid, "station_id": "S1", "plate": plate, "driver_id": "D1", "un_number": "1203",
            "hazard_class": "3", "quantity_kg": 18_000, "filled_at": filled_at, "received_at": int(time.time() * 1000)}


async def test_a_days_backlog_read_unevenly_gives_no_phantom_alarm(aiohttp_client, own_database):
    settings = own_database.with_(topic_partitions=PARTITIONS)
    topics = settings.topic_prefix
    await create_topics(settings)
    client = await aiohttp_client(ApiTestServer(create_app(settings)))
    token = new_token()
    await insert_token(client.app[POOL], token, ADMIN, "test admin")
    api = Api(client, token)
    await api.json("PUT", "/v1/geofences/S1", token, expect=201, json={
        "type": "Feature", "geometry": {"type": "Point", "coordinates": [STATION[1], STATION[0]]},
        "properties": {"kind": "filling_station", "name": "S1", "station_id": "S1", "radius_m": 100}})
    carrier, fleet = plates(50)
    await register_carrier(settings.database_url, carrier)
    home = {p: partition_for(p.encode(), range(PARTITIONS)) for p in fleet}
    held = home[fleet[0]]  # vehicle 0 parks at the station at hour 20, on the held partition
    other = next(p for p in fleet[1:] if home[p] != held)  # parks there at hour 10, elsewhere
    fleet = [fleet[0], other] + [p for p in fleet[1:] if p != other]
    silent = next(p for p in fleet[2:] if home[p] != held)
    t0 = int(time.time() * 1000) - 24 * 60 * MINUTE - 10 * MINUTE
    fixes = day(fleet, carrier, t0, silent, {fleet[0]: range(20 * 60, 21 * 60), fleet[1]: range(10 * 60, 11 * 60)})
    first_hour = [f for f in fixes if f["ts"] < t0 + 60 * MINUTE]
    rest = [f for f in fixes if f["ts"] >= t0 + 60 * MINUTE]
    pool = client.app[POOL]

    async def stored(count: int, partition_filter=lambda p: True) -> bool:
        wanted = [p for p in fleet if partition_filter(home[p])]
        return await pool.fetchval("SELECT count(*) FROM positions WHERE plate = ANY($1)", wanted) >= count

    async with member_running(Worker, settings) as worker, member_running(FillingWorker, settings):
        async def owns_all() -> bool:
            return worker.partitions.owned == set(range(PARTITIONS))

        await until(owns_all, 30, "the worker owns every partition")
        await publish_in_chunks(settings.kafka_bootstrap, f"{topics}fixes.v1", received_now(first_hour), 4, 0.0)
        await until(lambda: stored(len(first_hour)), 60, "the first hour stored")

        tp = TopicPartition(f"{topics}fixes.v1", held)
        worker.partitions.consumer.pause(tp)  # the fetcher takes this partition later than the others
        rest = received_now(rest)
        await publish_in_chunks(settings.kafka_bootstrap, f"{topics}fixes.v1", rest, len(rest) // 500, 0.0)
        elsewhere = sum(1 for f in fixes if home[f["plate"]] != held)
        await until(lambda: stored(elsewhere, lambda p: p != held), 120, "the day stored on the other partitions")
        publisher = Publisher(settings.kafka_bootstrap)
        try:
            await publisher.publish(f"{topics}filling.v1", [
                (p.encode(), orjson.dumps(filling(rid, p, t0 + minute * MINUTE)))
                for rid, p, minute in (("F-held", fleet[0], 20 * 60 + 30), ("F-other", fleet[1], 10 * 60 + 30))])
        finally:
            await publisher.close()

        async def presence(rid: str) -> str | None:
            return await pool.fetchval("SELECT checks->>'presence' FROM filling_records WHERE id = $1", rid)

        def decided(rid: str):
            async def check():
                return (await presence(rid)) not in (None, "pending") and await presence(rid)
            return check

        assert await until(decided("F-other"), 30, "the other record decided") == "present"
        await asyncio.sleep(settings.worker.quiet_s + 3)  # the held partition is quiet meanwhile
        assert await presence("F-held") == "pending"  # its track does not cover the window yet
        worker.partitions.consumer.resume(tp)
        await until(lambda: stored(len(fixes)), 120, "the whole day stored")
        assert await until(decided("F-held"), 30, "the held record decided") == "present"

    rows = await pool.fetch("SELECT plate, kind, started_at, details FROM violations WHERE plate = ANY($1)", fleet)
    withdrawn = [(r["plate"], r["kind"]) for r in rows if r["details"].get("withdrawn")]
    assert withdrawn == []
    offline = [(r["plate"], int(r["started_at"].timestamp() * 1000)) for r in rows if r["kind"] == "offline"]
    assert offline == [(silent, t0 + 12 * 60 * MINUTE)]
    assert not [r for r in rows if r["kind"] == "filling_vehicle_absent"]
