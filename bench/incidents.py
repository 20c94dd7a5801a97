"""Incident desk benchmark (issue 22): `POST /v1/incidents` through the API with 10 000
sites and 5 000 vehicles with positions in the district, p50/p99 (goal: p99 < 100 ms),
beside the obvious PostGIS query for the same lists (each site and vehicle tested with
`ST_DWithin` on geography for the circles and `ST_Intersects` for the downwind square,
ordered by `ST_Distance`; the five nearest responders by geography distance). The two
must find the same sites and vehicles.

The API answers from one process (in this one, on a port of its own, aiohttp client
requests one after another); each POST does what production does: the zones, the lists,
one transaction writing the incident, its live geofences and its event to the outbox.

Run: `.venv/bin/python -m bench.incidents [--sites 10000] [--vehicles 5000] [--incidents 300]`.
"""
from __future__ import annotations

import argparse
import asyncio
import os
import platform
import random
import statistics
import time
from datetime import datetime

import aiohttp
import orjson
import shapely
from aiohttp import web

from incidents.catalogue import load_catalogue
from incidents.desk import zones_of
from streams.times import LOCAL, now_ms
from streams.vocabulary import RESPONDER_KINDS, SITE_KINDS
from tests import stack
from tracker.api.app import create_app
from tracker.api.incidents import district
from tracker.auth import ADMIN, insert_token, new_token
from tracker.db.incidents import without_jit
from tracker.db.pool import create_pool
from tracker.dev.localstack import free_port
from tracker.settings import Settings

WEST, SOUTH, EAST, NORTH = 121.60, 29.75, 122.10, 29.96
OTHER_KINDS = [k for k in SITE_KINDS if k not in RESPONDER_KINDS]
WARM_UP = 5  # requests before the measured ones: the pool's connections, the catalogue and district read once

ALTERNATIVE = """
WITH p AS (SELECT ST_SetSRID(ST_MakePoint($1, $2), 4326)::geography AS g),
     square AS (SELECT ST_SetSRID(ST_GeomFromGeoJSON($6), 4326) AS geom)
SELECT 'site' AS what, s.id,
       CASE WHEN ST_DWithin(s.geom::geography, p.g, $3) THEN 'isolation'
            WHEN $7 AND ST_Intersects(s.geom, square.geom) THEN 'protective'
            WHEN NOT $7 AND ST_DWithin(s.geom::geography, p.g, $4) THEN 'protective'
            ELSE 'fire' END AS zone,
       ST_Distance(s.geom::geography, p.g) AS d
FROM sites s, p, square
WHERE ST_DWithin(s.geom::geography, p.g, $3) OR ($5 > 0 AND ST_DWithin(s.geom::geography, p.g, $5))
   OR (CASE WHEN $7 THEN ST_Intersects(s.geom, square.geom) ELSE ST_DWithin(s.geom::geography, p.g, $4) END)
UNION ALL
SELECT 'vehicle', v.plate, NULL,
       ST_Distance(ST_SetSRID(ST_MakePoint(v.lon, v.lat), 4326)::geography, p.g)
FROM vehicle_state v, p, square
WHERE ST_DWithin(ST_SetSRID(ST_MakePoint(v.lon, v.lat), 4326)::geography, p.g, greatest($3, $5))
   OR (CASE WHEN $7 THEN ST_Intersects(ST_SetSRID(ST_MakePoint(v.lon, v.lat), 4326), square.geom)
            ELSE ST_DWithin(ST_SetSRID(ST_MakePoint(v.lon, v.lat), 4326)::geography, p.g, $4) END)
UNION ALL
(SELECT 'responder', s.id, NULL, ST_Distance(s.geom::geography, p.g) AS d
 FROM sites s, p WHERE s.kind = ANY($8::text[]) ORDER BY d LIMIT 5)
ORDER BY d
"""


async def setup(pool, sites: int, vehicles: int, rng: random.Random) -> None:
    rows = []
    for i in range(sites):
        lon, lat = rng.uniform(WEST, EAST), rng.uniform(SOUTH, NORTH)
        kind = RESPONDER_KINDS[i // 100 % 2] if i % 100 == 0 else OTHER_KINDS[i % len(OTHER_KINDS)]  # 100 responders
        geometry = (shapely.Point(lon, lat) if i % 10 else shapely.box(lon, lat, lon + 0.002, lat + 0.0015))
        rows.append((f"s{i}", kind, f"site {i}", {"approximate": True}, shapely.to_geojson(geometry)))
    await pool.executemany(
        """INSERT INTO sites (id, kind, name, properties, geom)
           VALUES ($1, $2, $3, $4, ST_SetSRID(ST_GeomFromGeoJSON($5), 4326))""", rows)
    now = now_ms()
    await pool.executemany(
        """INSERT INTO vehicle_state (plate, state, last_ts, lat, lon, speed_kmh, status)
           VALUES ($1, '{}'::jsonb, $2, $3, $4, 40, 'moving')""",
        [(f"浙B{i:05d}", now - rng.randrange(600_000), rng.uniform(SOUTH, NORTH), rng.uniform(WEST, EAST))
         for i in range(vehicles)])
    await pool.execute("ANALYZE sites; ANALYZE vehicle_state")


def incidents(n: int, rng: random.Random) -> list[dict]:
    area, hazards = district(), list(load_catalogue().hazards)
    out = []
    while len(out) < n:
        lon, lat = rng.uniform(WEST, EAST), rng.uniform(SOUTH, NORTH)
        if not area.contains(shapely.Point(lon, lat)):
            continue
        body = {"lat": lat, "lon": lon, "kind": rng.choice(["leak", "fire", "explosion", "collision", "rollover"]),
                "spill": rng.choice(["small", "large"])}
        if rng.random() < 0.9:
            body["un_number"] = rng.choice(hazards)  # else unknown: the largest distances
        if rng.random() < 0.7:
            body |= {"wind_from_deg": rng.uniform(0, 360), "wind_speed_ms": rng.uniform(0.5, 8)}
        out.append(body)
    return out


def percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(q * len(ordered)))]


async def alternative(pool, body: dict) -> tuple[float, set, set]:
    """The obvious PostGIS query for one incident: (seconds, site ids, vehicle plates)."""
    _, _, zones = zones_of({**body, "waybill_un_number": None}, load_catalogue(), body["lon"], body["lat"], now_ms())
    iso, prot, fire = (zones.zone(n) for n in ("isolation", "protective", "fire"))
    square = prot.downwind_deg is not None
    async with pool.acquire() as conn, conn.transaction():
        await without_jit(conn)  # as the desk's own queries run: a fair comparison
        started = time.perf_counter()
        rows = await conn.fetch(ALTERNATIVE, body["lon"], body["lat"], float(iso.metres), float(prot.metres),
                                float(fire.metres if fire else 0),
                                orjson.dumps(shapely.geometry.mapping(prot.geometry)).decode(), square,
                                list(RESPONDER_KINDS))
        seconds = time.perf_counter() - started
    return (seconds, {r["id"] for r in rows if r["what"] == "site"}, {r["id"] for r in rows if r["what"] == "vehicle"})


async def run(url: str, n_sites: int, n_vehicles: int, n_incidents: int) -> None:
    rng = random.Random(22)
    pool = await create_pool(url, max_size=4)
    await setup(pool, n_sites, n_vehicles, rng)
    token = new_token()
    await insert_token(pool, token, ADMIN, "bench")
    port = free_port()
    runner = web.AppRunner(create_app(Settings(database_url=url, kafka_bootstrap="127.0.0.1:9")))
    await runner.setup()
    await web.TCPSite(runner, "127.0.0.1", port).start()
    bodies = incidents(n_incidents + WARM_UP, rng)
    api_s, alt_s, disagreements, differing, listed, in_zones = [], [], 0, 0, 0, []
    try:
        async with aiohttp.ClientSession(headers={"Authorization": f"Bearer {token}"}) as session:
            for i, body in enumerate(bodies):
                started = time.perf_counter()
                async with session.post(f"http://127.0.0.1:{port}/v1/incidents", json=body) as response:
                    answer = await response.json()
                    assert response.status == 201, answer
                seconds_api = time.perf_counter() - started
                seconds, sites, plates = await alternative(pool, body)
                if i < WARM_UP:
                    continue
                api_s.append(seconds_api)
                alt_s.append(seconds)
                in_zones.append((len(answer["sites"]), len(answer["vehicles"])))
                # a thing on a zone's very edge may fall either way (circle drawn vs. geodesic): count, do not fail
                ours = {s["id"] for s in answer["sites"]} | {v["plate"] for v in answer["vehicles"]}
                theirs = sites | plates
                disagreements += ours != theirs
                differing += len(ours ^ theirs)
                listed += len(ours | theirs)
                if (i + 1) % 100 == 0:
                    print(f"  {i + 1}/{len(bodies)}", flush=True)
    finally:
        await runner.cleanup()
        await pool.close()
    ms = lambda values, q: percentile(values, q) * 1000  # noqa: E731
    print(f"incidents: {len(api_s)} measured after {WARM_UP}; sites in zones per incident, median/max: "
          f"{statistics.median(s for s, _ in in_zones):.0f}/{max(s for s, _ in in_zones)}; vehicles: "
          f"{statistics.median(v for _, v in in_zones):.0f}/{max(v for _, v in in_zones)}")
    print(f"POST /v1/incidents (HTTP, zones, lists, transaction): p50 {ms(api_s, 0.5):.1f} ms, "
          f"p99 {ms(api_s, 0.99):.1f} ms, max {max(api_s) * 1000:.1f} ms")
    print(f"alternative, the PostGIS query alone: p50 {ms(alt_s, 0.5):.1f} ms, p99 {ms(alt_s, 0.99):.1f} ms, "
          f"max {max(alt_s) * 1000:.1f} ms")
    print(f"incidents whose lists differ between the two: {disagreements}; things listed by one only: "
          f"{differing} of {listed}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sites", type=int, default=10_000)
    parser.add_argument("--vehicles", type=int, default=5_000)
    parser.add_argument("--incidents", type=int, default=300)
    args = parser.parse_args()
    print(f"machine: {platform.machine()}, {os.cpu_count()} cores, Python {platform.python_version()}, "
          f"{datetime.now(LOCAL):%Y-%m-%d %H:%M} local")
    with stack.postgres_server() as server, stack.fresh_database(server) as url:
        asyncio.run(run(url, args.sites, args.vehicles, args.incidents))


if __name__ == "__main__":
    main()
