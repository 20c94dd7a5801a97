"""The raw counts behind the supervision figures, computed in PostGIS where the data lives
(tracker.reports.definitions turns them into figures).

One pass over the period's stored fixes gives records, qualified records, online
vehicles and mileage (a window pairs each fix with the one before it, in the order of
each day partition's (plate, ts) index, so nothing is sorted); the
registry, dead letters and violations are small beside it. bench/kpis.py measures this
against fetching the rows and counting in Python.
"""
from __future__ import annotations

import asyncio
from datetime import datetime

import asyncpg

from tracker.reports.definitions import KpiParams

# Great-circle distances on ST_DistanceSphere's sphere (the WGS-84 mean radius), written
# out: over a month of 668 vehicles (5.8 M rows) ~25 % faster than building two points a
# row for ST_DistanceSphere, to the same metre (bench/RESULTS.md).
FIXES = """
WITH fleet AS (
    SELECT plate FROM vehicles WHERE $3::text IS NULL OR carrier_id = $3
), paired AS (
    SELECT p.plate, p.ts, p.received_at, p.lat, p.lon, p.speed_kmh, p.heading_deg,
           p.ts - lag(p.ts) OVER w AS step_t, lag(p.lat) OVER w AS prev_lat, lag(p.lon) OVER w AS prev_lon
    FROM positions p JOIN fleet USING (plate)
    WHERE p.ts >= $1 AND p.ts < $2
    WINDOW w AS (PARTITION BY p.plate ORDER BY p.ts)
), stepped AS (
    SELECT *, CASE WHEN prev_lat IS NOT NULL THEN 2 * 6371008.7714 * asin(least(1, sqrt(  -- least() skips NULLs
                  sin(radians(lat - prev_lat) / 2) ^ 2
                  + cos(radians(prev_lat)) * cos(radians(lat)) * sin(radians(lon - prev_lon) / 2) ^ 2))) END AS step_m
    FROM paired
)
SELECT count(*) AS records,
       count(*) FILTER (WHERE ts <= received_at + interval '5 minutes'
                          AND lon BETWEEN 73.5 AND 135.1 AND lat BETWEEN 3.8 AND 53.6
                          AND speed_kmh BETWEEN 0 AND $4 AND heading_deg >= 0 AND heading_deg < 360) AS qualified,
       count(*) FILTER (WHERE step_t IS NULL) AS online,  -- a vehicle's first fix (no sort, unlike DISTINCT)
       coalesce(sum(step_m), 0) AS mileage_m,
       coalesce(sum(step_m) FILTER (WHERE step_t <= make_interval(secs => $5) AND step_m <= $6), 0) AS continuous_m
FROM stepped
"""

ACCESS = """
SELECT count(*) AS registered,
       count(*) FILTER (WHERE EXISTS (SELECT 1 FROM vehicle_state s WHERE s.plate = v.plate AND s.last_ts < $2)
                           OR EXISTS (SELECT 1 FROM positions p WHERE p.plate = v.plate AND p.ts < $2)) AS connected
FROM vehicles v WHERE $1::text IS NULL OR v.carrier_id = $1
"""

DEAD_FIXES = """
SELECT count(*) FROM deadletters d LEFT JOIN vehicles v ON v.plate = d.plate
WHERE d.is_fix AND d.received_at >= $1 AND d.received_at < $2 AND ($3::text IS NULL OR v.carrier_id = $3)
"""

# Violations are charged to the carrier they name (the vehicle's when it was detected).
VIOLATIONS = """
SELECT kind, plate, count(*) AS n FROM violations
WHERE started_at >= $1 AND started_at < $2 AND ($3::text IS NULL OR carrier_id = $3)
  AND NOT coalesce((details->>'withdrawn')::boolean, false)
GROUP BY kind, plate
"""

# Checkpoint reads whose GPS check is decided (matched true/false: confident reads of
# registered vehicles), charged to the vehicle's carrier now (migration 0011).
READS = """
SELECT count(*) AS reads, count(*) FILTER (WHERE r.matched) AS matched
FROM plate_reads r JOIN vehicles v USING (plate)
WHERE r.ts >= $1 AND r.ts < $2 AND r.matched IS NOT NULL AND ($3::text IS NULL OR v.carrier_id = $3)
"""

HANDLING = """
SELECT count(*) AS alarms,
       count(*) FILTER (WHERE h.acked_at IS NOT NULL OR h.resolved_at IS NOT NULL) AS handled,
       count(h.acked_at) AS acked,
       percentile_cont(0.5) WITHIN GROUP (ORDER BY extract(epoch FROM h.acked_at - v.started_at)) AS median_ack_s
FROM violations v LEFT JOIN violation_handling h ON h.violation_id = v.violation_id
WHERE v.started_at >= $1 AND v.started_at < $2 AND ($3::text IS NULL OR v.carrier_id = $3)
  AND NOT coalesce((v.details->>'withdrawn')::boolean, false)
"""


async def counts(pool: asyncpg.Pool, start: datetime, end: datetime, carrier_id: str | None,
                 params: KpiParams) -> dict:
    """The raw counts of [start, end) for a carrier (None: the district), the queries on
    connections of their own so the small ones run beside the pass over positions."""
    fixes, access, dead, violations, handling, reads = await asyncio.gather(
        pool.fetchrow(FIXES, start, end, carrier_id, float(params.max_speed_kmh), float(params.track_gap_s),
                      float(params.track_gap_m)),
        pool.fetchrow(ACCESS, carrier_id, end),
        pool.fetchval(DEAD_FIXES, start, end, carrier_id),
        pool.fetch(VIOLATIONS, start, end, carrier_id),
        _handling(pool, start, end, carrier_id), pool.fetchrow(READS, start, end, carrier_id))
    by_kind: dict[str, int] = {}
    jumps: dict[str, int] = {}
    for r in violations:
        by_kind[r["kind"]] = by_kind.get(r["kind"], 0) + r["n"]
        if r["kind"] == "gps_jump":
            jumps[r["plate"]] = r["n"]
    return {
        "registered": access["registered"], "connected": access["connected"],
        "online": fixes["online"], "records": fixes["records"], "qualified": fixes["qualified"],
        "dead_fixes": dead, "mileage_m": float(fixes["mileage_m"]), "continuous_m": float(fixes["continuous_m"]),
        "drifting": sum(1 for n in jumps.values() if n >= params.drift_min_jumps),
        "offline_displacements": by_kind.get("offline_displacement", 0),
        "alarms_by_kind": by_kind, "handling": handling,
        "checkpoint_reads": reads["reads"], "checkpoint_matched": reads["matched"],
    }


async def _handling(pool: asyncpg.Pool, start: datetime, end: datetime, carrier_id: str | None) -> dict:
    row = await pool.fetchrow(HANDLING, start, end, carrier_id)
    median = row["median_ack_s"]
    return {"alarms": row["alarms"], "handled": row["handled"], "acked": row["acked"],
            "median_ack_s": round(median, 1) if median is not None else None}
