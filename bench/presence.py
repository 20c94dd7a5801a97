"""Presence-check benchmark (issue 4): a day of positions of 668 vehicles (a fix a
minute) in PostGIS, 2 000 filling records at 36 stations; the check as the filling
worker runs it (fetch the vehicle's fixes in +-15 min, test them against the station in
Python) beside doing the whole test in one PostGIS query per record.

Run: `.venv/bin/python -m bench.presence`.
"""
from __future__ import annotations

import asyncio
import os
import platform
import random
import time
from datetime import datetime, timezone

import shapely

from filling_stations.checks import PRESENCE_RADIUS_M, presence
from geofence.model import compile_geofence
from tests import stack
from tracker.db import filling
from tracker.db.pool import create_pool, ensure_position_partitions
from streams.times import utc
from tracker.db.positions import COLUMNS as POSITION_COLUMNS

VEHICLES, RECORDS, STATIONS = 668, 2000, 36
WEST, SOUTH, EAST, NORTH = 121.70, 29.80, 122.00, 30.00


def main() -> None:
    print(f"machine: {platform.machine()}, {os.cpu_count()} cores, Python {platform.python_version()}")
    rng = random.Random(11)
    day0 = int(datetime.now(timezone.utc).replace(hour=0, minute=0, second=0, microsecond=0).timestamp() * 1000) \
        - 86_400_000
    stations = []
    for i in range(STATIONS):
        lon, lat = rng.uniform(WEST, EAST), rng.uniform(SOUTH, NORTH)
        stations.append(compile_geofence(f"st-{i}", 1, {"type": "Point", "coordinates": [lon, lat]},
                                         {"kind": "filling_station", "station_id": f"S{i}", "radius_m": 120}))
    records = []
    positions = []
    for v in range(VEHICLES):
        plate = f"浙B{v:05d}"
        lon, lat = rng.uniform(WEST, EAST), rng.uniform(SOUTH, NORTH)
        for minute in range(1440):
            lon = min(EAST, max(WEST, lon + rng.uniform(-0.004, 0.004)))
            lat = min(NORTH, max(SOUTH, lat + rng.uniform(-0.003, 0.003)))
            positions.append((plate, utc(day0 + minute * 60_000), lat, lon, 40.0, 0.0, None, 0, "http",
                              utc(day0 + minute * 60_000)))
    for r in range(RECORDS):
        v, st = rng.randrange(VEHICLES), rng.choice(stations)
        records.append({"id": f"F{r}", "station_id": st.station_id, "plate": f"浙B{v:05d}",
                        "filled_at": day0 + rng.randrange(30, 1410) * 60_000, "_station": st})

    async def run(db: str) -> None:
        pool = await create_pool(db)
        await ensure_position_partitions(pool)
        started = time.perf_counter()
        async with pool.acquire() as conn:
            await conn.copy_records_to_table("positions", records=positions, columns=POSITION_COLUMNS)
            await conn.execute("ANALYZE positions")
        print(f"{len(positions):,} positions loaded in {time.perf_counter() - started:.1f} s; "
              f"{RECORDS} records at {STATIONS} stations")
        started = time.perf_counter()
        outcomes = {}
        async with pool.acquire() as conn:
            for r in records:
                fixes = await filling.fixes_around(conn, r["plate"], r["filled_at"])
                outcomes[r["id"]] = presence(r, r["_station"].area, fixes, True)[0]
        elapsed = time.perf_counter() - started
        print(f"worker's check (fixes of +-15 min, tested in Python): {RECORDS / elapsed:,.0f} records/s "
              f"({elapsed / RECORDS * 1000:.2f} ms each); present {sum(o == 'present' for o in outcomes.values())}")
        started = time.perf_counter()
        async with pool.acquire() as conn:
            query = await conn.prepare(
                """SELECT EXISTS (SELECT 1 FROM positions WHERE plate = $1 AND ts BETWEEN $2 AND $3
                     AND ST_DWithin(ST_SetSRID(ST_MakePoint(lon, lat), 4326)::geography,
                                    ST_GeomFromWKB($4, 4326)::geography, $5))""")
            agree = 0
            for r in records:
                window = 15 * 60_000
                found = await query.fetchval(r["plate"], utc(r["filled_at"] - window), utc(r["filled_at"] + window),
                                             shapely.to_wkb(r["_station"].area), PRESENCE_RADIUS_M)
                agree += found == (outcomes[r["id"]] == "present")
        elapsed = time.perf_counter() - started
        print(f"alternative, one PostGIS ST_DWithin query per record: {RECORDS / elapsed:,.0f} records/s; "
              f"the two agree on {agree} of {RECORDS}")
        await pool.close()

    with stack.postgres_server() as server, stack.fresh_database(server) as db:
        asyncio.run(run(db))


if __name__ == "__main__":
    main()
