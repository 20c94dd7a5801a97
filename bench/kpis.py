"""KPI report benchmark (issue 17): a month of positions of 668 vehicles of 25 carriers in
real day partitions, the monthly report as the API computes it (tracker.db.kpis: one
pass in PostGIS), beside the obvious alternative: fetch the month's rows (a cursor, ordered
by plate and time) and count in Python. Both must agree.

Run: `.venv/bin/python -m bench.kpis [--interval-s 300] [--days 30]` (a fix every
interval per vehicle, on every day; 300 s gives ~5.8 M rows, 60 s the issue's ~29 M).
"""
from __future__ import annotations

import argparse
import asyncio
import math
import os
import platform
import time
from datetime import datetime, timedelta

from geofence.metric import haversine_m
from streams.rules.config import RuleConfig
from streams.times import LOCAL
from tests import stack
from tracker.db import kpis, positions
from tracker.db.pool import create_pool
from tracker.reports.definitions import KpiParams, figures, period

VEHICLES, CARRIERS = 668, 25

GENERATE = """
INSERT INTO positions (plate, ts, lat, lon, speed_kmh, heading_deg, h3_cell, source, received_at)
SELECT '浙B' || lpad(v::text, 5, '0'), t,
       29.9 + 0.06 * sin(v + extract(epoch FROM t) / 5400.0), 121.85 + 0.08 * cos(v * 1.7 + extract(epoch FROM t) / 7200.0),
       CASE WHEN (v + extract(epoch FROM t)::bigint / $3::int) % 997 = 0 THEN 170 ELSE 30 + v % 40 END,
       (v * 7) % 360, 0, 'http', t + interval '2 seconds'
FROM generate_series(0, $4 - 1) v,
     generate_series($1::timestamptz, $2::timestamptz - interval '1 microsecond', make_interval(secs => $3::int)) t
WHERE NOT (v % 37 = 0 AND extract(hour FROM t AT TIME ZONE 'Asia/Shanghai') = 3)  -- a nightly gap: breaks tracks
"""


async def setup(pool, month_start: datetime, days: int, interval_s: int) -> int:
    await pool.execute("INSERT INTO carriers (id, name) SELECT 'C' || c, 'Carrier ' || c FROM generate_series(0, $1 - 1) c",
                       CARRIERS)
    await pool.execute(
        """INSERT INTO vehicles (plate, carrier_id, tank_capacity_kg, hazard_classes, permit_valid_until,
                                 tank_inspection_valid_until)
           SELECT '浙B' || lpad(v::text, 5, '0'), 'C' || (v % $2), 30000, ARRAY['3'], '2030-01-01', '2030-01-01'
           FROM generate_series(0, $1 - 1) v""", VEHICLES, CARRIERS)
    first = (month_start - timedelta(days=1)).date()
    await positions.ensure_days(pool, first, (month_start + timedelta(days=days)).date())
    started = time.perf_counter()
    for d in range(days):
        day = month_start + timedelta(days=d)
        await pool.execute(GENERATE, day, day + timedelta(days=1), interval_s, VEHICLES)
        print(f"  day {d + 1}/{days} generated ({time.perf_counter() - started:.0f} s)", flush=True)
    # violations: a gps_jump for one vehicle in 20 a day, speeding for one in 4, an offline displacement a day
    await pool.execute(
        """INSERT INTO violations (violation_id, kind, plate, carrier_id, status, started_at, ended_at, lat, lon,
                                   severity, agencies, details)
           SELECT 'v-' || k || '-' || v || '-' || d, k, '浙B' || lpad(v::text, 5, '0'), 'C' || (v % $3), 'closed',
                  $1::timestamptz + make_interval(days => d, hours => 10), $1::timestamptz + make_interval(days => d, hours => 11),
                  29.9, 121.8, 'low', ARRAY['police'], '{}'
           FROM generate_series(0, $2 - 1) d, generate_series(0, $4 - 1) v,
                (VALUES ('gps_jump', 20), ('speeding', 4), ('offline_displacement', 668)) AS kinds(k, every)
           WHERE v % every = d % every""", month_start, days, CARRIERS, VEHICLES)
    await pool.execute("ANALYZE")
    return await pool.fetchval("SELECT count(*) FROM positions")


async def in_python(pool, start: datetime, end: datetime, carrier_id: str | None, params: KpiParams) -> dict:
    """The alternative: the rows to Python, counted there (the same definitions)."""
    records = qualified = 0
    online: set[str] = set()
    mileage = continuous = 0.0
    gap = timedelta(seconds=params.track_gap_s)
    async with pool.acquire() as conn, conn.transaction():
        prev = None
        cursor = conn.cursor(
            """SELECT p.plate, p.ts, p.received_at, p.lat, p.lon, p.speed_kmh, p.heading_deg
               FROM positions p JOIN vehicles v USING (plate)
               WHERE p.ts >= $1 AND p.ts < $2 AND ($3::text IS NULL OR v.carrier_id = $3)
               ORDER BY p.plate, p.ts""", start, end, carrier_id, prefetch=50_000)
        async for plate, ts, received, lat, lon, speed, heading in cursor:
            records += 1
            online.add(plate)
            if (ts <= received + timedelta(minutes=5) and 73.5 <= lon <= 135.1 and 3.8 <= lat <= 53.6
                    and 0 <= speed <= params.max_speed_kmh and 0 <= heading < 360):
                qualified += 1
            if prev is not None and prev[0] == plate:
                step = haversine_m(prev[2], prev[3], lat, lon)
                mileage += step
                if ts - prev[1] <= gap and step <= params.track_gap_m:
                    continuous += step
            prev = (plate, ts, lat, lon)
    return {"records": records, "qualified": qualified, "online": len(online), "mileage_m": mileage,
            "continuous_m": continuous}


async def timed(what: str, coro):
    started = time.perf_counter()
    out = await coro
    seconds = time.perf_counter() - started
    print(f"{what}: {seconds:.1f} s", flush=True)
    return out, seconds


async def run(url: str, interval_s: int, days: int) -> None:
    pool = await create_pool(url, max_size=6)
    try:
        month_start = datetime(2026, 10, 1, tzinfo=LOCAL)
        rows, load_s = await timed("generate", setup(pool, month_start, days, interval_s))
        print(f"positions: {rows:,} rows ({VEHICLES} vehicles x {days} days, a fix every {interval_s} s)")
        size = await pool.fetchval(
            "SELECT pg_size_pretty(sum(pg_total_relation_size(inhrelid))) FROM pg_inherits "
            "WHERE inhparent = 'positions'::regclass")
        print(f"positions on disk (tables + indexes): {size}")
        params, rules = KpiParams(), RuleConfig()
        month = period("month", "2026-10")
        end = month.start + timedelta(days=days)
        results = {}
        for label, carrier in (("district", None), ("one carrier", "C0")):
            raw, s = await timed(f"KPI report, month, {label} (PostGIS)", kpis.counts(pool, month.start, end, carrier, params))
            results[label] = (raw, s)
        day = period("day", "2026-10-15")
        _, day_s = await timed("KPI report, day, district (PostGIS)", kpis.counts(pool, day.start, day.end, None, params))
        py, py_s = await timed("alternative: month, district, rows counted in Python",
                               in_python(pool, month.start, end, None, params))
        raw = results["district"][0]
        for key in ("records", "qualified", "online"):
            assert py[key] == raw[key], (key, py[key], raw[key])
        for key in ("mileage_m", "continuous_m"):
            assert math.isclose(py[key], raw[key], rel_tol=1e-6), (key, py[key], raw[key])
        figs = figures(raw, params, rules)
        print("district figures:", {k: f["value"] for k, f in figs.items()})
        plan = await pool.fetch("EXPLAIN (ANALYZE, BUFFERS, COSTS OFF) " + kpis.FIXES, month.start, end, None,
                                float(params.max_speed_kmh), float(params.track_gap_s), float(params.track_gap_m))
        print("plan of the pass over positions (month, district):")
        lines = [r[0] for r in plan]
        print("\n".join(lines if len(lines) < 40 else lines[:12] + ["  ... (one line pair per day partition)"] + lines[-12:]))
        print(f"summary: rows={rows} load_s={load_s:.0f} month_district_s={results['district'][1]:.1f} "
              f"month_carrier_s={results['one carrier'][1]:.1f} day_s={day_s:.2f} python_s={py_s:.1f}")
    finally:
        await pool.close()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--interval-s", type=int, default=300)
    parser.add_argument("--days", type=int, default=30)
    args = parser.parse_args()
    print(f"machine: {platform.machine()}, {os.cpu_count()} cores, Python {platform.python_version()}, "
          f"{datetime.now(LOCAL):%Y-%m-%d %H:%M} local")
    with stack.postgres_server() as server, stack.fresh_database(server) as url:
        asyncio.run(run(url, args.interval_s, args.days))


if __name__ == "__main__":
    main()
