"""A backlog after an outage: phantom alarms, counted. A day of fixes of a fleet that
reported without a gap, posted in time order in batches of 500 (as a carrier platform
catching up does) while a `hazmat worker` process consumes it on 8 partitions (which it
fetches as unevenly as it happens to), then the stations' filling records for vehicles
that stood at the station. Every `offline`, every withdrawn violation and every
`filling_vehicle_absent` is a false alarm the agencies were told of.

    python -m bench.backlog --vehicles 50 --hours 24 --every 10

One vehicle really goes silent for 45 min (driving): its `offline` is the one expected.
"""
from __future__ import annotations

import argparse
import asyncio
import math
import os
import platform
import re
import socket
import subprocess
import sys
import time
import uuid

import aiohttp
import orjson

from streams.kafka import Publisher
from streams.topics import Topics
from tests import stack
from tracker.db.pool import create_pool
from tracker.serve import create_topics
from tracker.settings import Settings

M_LAT, M_LON = 1 / 110_574, 1 / 96_400
STATION = (29.70, 121.70)
MINUTE = 60_000


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def backlog(vehicles: int, hours: int, every_s: int, t0: int, received: int) -> tuple[list[dict], list[dict]]:
    """Fixes in time order (vehicle 0 silent 45 min from the 12th hour; the first ten stand
    at the station for an hour, each at its own hour) and one filling record each of those."""
    fixes, records = [], []
    steps = hours * 3600 // every_s
    plates = [f"浙Z{uuid.uuid4().hex[:3].upper()}{v:02d}" for v in range(vehicles)]
    for k in range(steps):
        t = t0 + k * every_s * 1000
        for v, plate in enumerate(plates):
            minute = k * every_s // 60
            if v == 0 and 12 * 60 < minute <= 12 * 60 + 45:
                continue
            at_station = 1 <= v <= 10 and (2 * v) * 60 <= minute < (2 * v + 1) * 60
            if at_station:
                lat, lon, speed = STATION[0], STATION[1], 0.0
            else:
                angle = k * every_s / 120
                north, east = 3000 + v * 400 + 1000 * math.sin(angle), 1000 * math.cos(angle)
                lat, lon, speed = STATION[0] + north * M_LAT, STATION[1] + east * M_LON, 30.0
            fixes.append({"plate": plate, "ts": t, "lat": lat, "lon": lon, "speed_kmh": speed, "heading_deg": 90.0,
                          "carrier_id": "C1", "source": "http", "received_at": received})
    for v in range(1, min(vehicles, 11)):
        records.append({"id": f"F{v}", "station_id": "S1", "plate": plates[v], "driver_id": "D1", "un_number": "1203",
                        "hazard_class": "3", "quantity_kg": 18_000, "filled_at": t0 + (2 * v * 60 + 30) * MINUTE,
                        "received_at": received})
    return fixes, records


async def prepare(settings: Settings) -> None:
    await create_topics(settings)
    pool = await create_pool(settings.asyncpg_dsn)
    try:
        await pool.execute("INSERT INTO carriers (id, name) VALUES ('C1', 'C1')")
        await pool.execute(
            """INSERT INTO geofences (id, kind, name, properties, geom, version)
               VALUES ('S1', 'filling_station', 'S1', '{"station_id": "S1", "radius_m": 100}'::jsonb,
                       ST_SetSRID(ST_MakePoint($1, $2), 4326), 1)""", STATION[1], STATION[0])
    finally:
        await pool.close()


async def run(settings: Settings, fixes: list[dict], records: list[dict], metrics_port: int) -> dict:
    topics = Topics(settings.topic_prefix)
    publisher = Publisher(settings.kafka_bootstrap)
    pool = await create_pool(settings.asyncpg_dsn)
    started = time.perf_counter()
    try:
        for i in range(0, len(fixes), 500):  # in time order, batches of 500, as fast as the broker takes them
            await publisher.publish(topics.fixes, [(f["plate"].encode(), orjson.dumps(f)) for f in fixes[i:i + 500]])
        posted = time.perf_counter() - started
        await publisher.publish(topics.filling, [(r["plate"].encode(), orjson.dumps(r)) for r in records])
        while await pool.fetchval("SELECT count(*) FROM positions") < len(fixes):
            await asyncio.sleep(1)
        consumed = time.perf_counter() - started
        while await pool.fetchval("SELECT count(*) FROM filling_records WHERE checks->>'presence' IN "
                                  "('present', 'absent')") < len(records):
            await asyncio.sleep(1)
        rows = await pool.fetch("SELECT kind, details FROM violations")
    finally:
        await pool.close()
        await publisher.close()
    async with aiohttp.ClientSession() as s, s.get(f"http://127.0.0.1:{metrics_port}/metrics") as r:
        text = await r.text()
    metric = sum(float(m) for m in re.findall(r'^hazmat_violations_withdrawn_total\{[^}]*\} (\S+)', text, re.M))
    kinds: dict[str, int] = {}
    for row in rows:
        kinds[row["kind"]] = kinds.get(row["kind"], 0) + 1
    details = [orjson.loads(r["details"]) if isinstance(r["details"], str) else r["details"] for r in rows]
    return {"posted_s": posted, "consumed_s": consumed, "kinds": kinds,
            "withdrawn": sum(1 for d in details if d.get("withdrawn")), "withdrawn_metric": metric}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--vehicles", type=int, default=50)
    parser.add_argument("--hours", type=int, default=24)
    parser.add_argument("--every", type=int, default=10, help="seconds between a vehicle's fixes")
    args = parser.parse_args()
    print(f"machine: {platform.machine()}, {os.cpu_count()} cores, Python {platform.python_version()}")
    now = int(time.time() * 1000)
    fixes, records = backlog(args.vehicles, args.hours, args.every, now - (args.hours * 60 + 10) * MINUTE, now)
    with stack.postgres_server() as server, stack.fresh_database(server) as db, stack.broker() as broker:
        settings = Settings(database_url=db, kafka_bootstrap=broker.bootstrap, topic_prefix=f"k{uuid.uuid4().hex[:6]}.",
                            topic_partitions=8, worker_group="backlog")
        asyncio.run(prepare(settings))
        metrics_port = free_port()
        env = dict(os.environ, HAZMAT_DATABASE_URL=db, HAZMAT_KAFKA_BOOTSTRAP=broker.bootstrap,
                   HAZMAT_TOPIC_PREFIX=settings.topic_prefix, HAZMAT_TOPIC_PARTITIONS="8",
                   HAZMAT_WORKER_GROUP=settings.worker_group, HAZMAT_METRICS_PORT=str(metrics_port))
        worker = subprocess.Popen([sys.executable, "-m", "tracker.cli", "worker"], env=env,
                                  stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        try:
            time.sleep(8)  # the group formed: consumption runs beside the posting
            out = asyncio.run(run(settings, fixes, records, metrics_port))
        finally:
            worker.terminate()
            worker.wait(60)
    print(f"{len(fixes):,} fixes of {args.vehicles} vehicles over {args.hours} h posted in {out['posted_s']:.0f} s, "
          f"consumed in {out['consumed_s']:.0f} s; {len(records)} filling records")
    print(f"violations by kind: {dict(sorted(out['kinds'].items()))}")
    print(f"offline: {out['kinds'].get('offline', 0)} (1 expected: the vehicle silent 45 min); withdrawn: "
          f"{out['withdrawn']} (hazmat_violations_withdrawn_total: {out['withdrawn_metric']:.0f}); "
          f"filling_vehicle_absent: {out['kinds'].get('filling_vehicle_absent', 0)} (0 expected)")


if __name__ == "__main__":
    main()
