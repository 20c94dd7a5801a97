"""Violations as stored: written by the workers (with their batch), read by the API."""
from __future__ import annotations

import asyncpg

from streams.rules.violations import Violation
from streams.times import epoch_ms, rfc3339

COLUMNS = """violation_id, kind, plate, carrier_id, status, started_at, ended_at, lat, lon, geofence_id,
             waybill_id, severity, agencies, details"""


def violation_row(v: Violation) -> tuple:
    """Times as epoch ms: the pool's timestamptz codec takes them."""
    return (v.violation_id, v.kind, v.plate, v.carrier_id, v.status, v.started_ms, v.ended_ms, v.lat, v.lon,
            v.geofence_id, v.waybill_id, v.severity, v.agencies, v.details)


def violation_of(row) -> Violation:
    """A violations row as the rules hold a violation (a late-fix replay re-decides it)."""
    return Violation(row["violation_id"], row["kind"], row["plate"], row["carrier_id"], row["status"],
                     epoch_ms(row["started_at"]), epoch_ms(row["ended_at"]) if row["ended_at"] else None,
                     row["lat"], row["lon"], row["geofence_id"], row["waybill_id"], row["severity"],
                     list(row["agencies"]), row["details"])


def as_violation(row) -> dict:
    """A violations row as the Violation object of docs/api.md."""
    out = dict(row)
    out["started_at"] = rfc3339(epoch_ms(row["started_at"]))
    out["ended_at"] = rfc3339(epoch_ms(row["ended_at"])) if row["ended_at"] else None
    return out


async def upsert_violations(conn: asyncpg.Connection, rows: list[tuple]) -> None:
    """Rows of violation_row(), at most one per violation id."""
    if not rows:
        return
    await conn.executemany(
        """INSERT INTO violations (violation_id, kind, plate, carrier_id, status, started_at, ended_at, lat,
                                   lon, geofence_id, waybill_id, severity, agencies, details, updated_at)
           VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, now())
           ON CONFLICT (violation_id) DO UPDATE SET status = EXCLUDED.status, ended_at = EXCLUDED.ended_at,
             details = EXCLUDED.details, severity = EXCLUDED.severity, agencies = EXCLUDED.agencies,
             updated_at = now()""", rows)
