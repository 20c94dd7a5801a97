"""Checkpoints (卡口) and their cameras' plate reads in PostGIS: what the API writes and
lists, and what the plate-read worker stores, waits on and decides from."""
from __future__ import annotations

from datetime import timedelta

import asyncpg

from checkpoints.checks import Checkpoint
from streams.times import epoch_ms, utc

COLUMNS = "id, name, road, direction_deg, ST_Y(geom) AS lat, ST_X(geom) AS lon"


async def put(pool: asyncpg.Pool, cid: str, name: str, road: str | None, direction_deg: float | None,
              lat: float, lon: float) -> asyncpg.Record:
    """The stored row, with `existed`."""
    return await pool.fetchrow(
        f"""WITH before AS (SELECT 1 FROM checkpoints WHERE id = $1)
            INSERT INTO checkpoints (id, name, road, direction_deg, geom)
            VALUES ($1, $2, $3, $4, ST_SetSRID(ST_MakePoint($6, $5), 4326))
            ON CONFLICT (id) DO UPDATE SET name = EXCLUDED.name, road = EXCLUDED.road,
              direction_deg = EXCLUDED.direction_deg, geom = EXCLUDED.geom, updated_at = now()
            RETURNING {COLUMNS}, EXISTS (SELECT 1 FROM before) AS existed""",
        cid, name, road, direction_deg, lat, lon)


async def exists(pool: asyncpg.Pool, cid: str) -> bool:
    return bool(await pool.fetchval("SELECT 1 FROM checkpoints WHERE id = $1", cid))


async def known(pool: asyncpg.Pool, ids: list[str]) -> set[str]:
    """Which of `ids` are checkpoints (one query for a request's reads)."""
    return {r["id"] for r in await pool.fetch("SELECT id FROM checkpoints WHERE id = ANY($1::text[])", ids)}


async def listed(pool: asyncpg.Pool, bbox: list[float] | None) -> list[asyncpg.Record]:
    return await pool.fetch(
        f"""SELECT {COLUMNS} FROM checkpoints
            WHERE $1::float8[] IS NULL OR geom && ST_MakeEnvelope($1[1], $1[2], $1[3], $1[4], 4326)
            ORDER BY id""", bbox)


async def all_checkpoints(conn) -> dict[str, Checkpoint]:
    rows = await conn.fetch(f"SELECT {COLUMNS} FROM checkpoints")
    return {r["id"]: Checkpoint(r["id"], r["name"], r["lat"], r["lon"]) for r in rows}


async def insert_new(conn: asyncpg.Connection, reads: list[dict]) -> set[tuple[str, str]]:
    """Store reads not seen before; the (checkpoint_id, id) inserted (a repeat is one read)."""
    rows = await conn.fetch(
        """INSERT INTO plate_reads (checkpoint_id, id, plate, ts, confidence, read, received_at, checks)
           SELECT r.checkpoint_id, r.id, r.plate, r.ts, r.confidence, r.read, r.received_at, '{}'::jsonb
           FROM unnest($1::text[], $2::text[], $3::text[], $4::timestamptz[], $5::float8[], $6::jsonb[],
                       $7::timestamptz[]) AS r(checkpoint_id, id, plate, ts, confidence, read, received_at)
           ON CONFLICT (checkpoint_id, id) DO NOTHING RETURNING checkpoint_id, id""",
        [r["checkpoint_id"] for r in reads], [r["id"] for r in reads], [r["plate"] for r in reads],
        [utc(r["ts"]) for r in reads], [float(r["confidence"]) for r in reads], reads,
        [utc(r["received_at"]) for r in reads])
    return {(r["checkpoint_id"], r["id"]) for r in rows}


async def carriers(conn, plates: list[str]) -> dict[str, str]:
    """The registry's carrier of each plate registered."""
    return dict(await conn.fetch("SELECT plate, carrier_id FROM vehicles WHERE plate = ANY($1::text[])", plates))


async def last_fix(conn, plate: str, until_ms: int, max_age_ms: int) -> tuple[int, float, float] | None:
    row = await conn.fetchrow(
        """SELECT ts, lat, lon FROM positions WHERE plate = $1 AND ts <= $2 AND ts >= $3
           ORDER BY ts DESC LIMIT 1""", plate, utc(until_ms), utc(until_ms - max_age_ms))
    return (epoch_ms(row["ts"]), row["lat"], row["lon"]) if row else None


async def far_sightings(conn, read: dict, checkpoint: Checkpoint, horizon_ms: int, min_m: float,
                        min_confidence: float) -> list[tuple[int, float, float, str]]:
    """Other confident reads and the fixes of the read's plate within the horizon and at
    least `min_m` from the checkpoint: (ts, lat, lon, what), what = 'read <cp>/<id>' or 'fix'."""
    window = timedelta(milliseconds=horizon_ms)
    at = utc(read["ts"])
    rows = await conn.fetch(
        """SELECT r.ts, ST_Y(c.geom) AS lat, ST_X(c.geom) AS lon, 'read ' || r.checkpoint_id || '/' || r.id AS what
           FROM plate_reads r JOIN checkpoints c ON c.id = r.checkpoint_id
           WHERE r.plate = $1 AND r.ts BETWEEN $2 AND $3 AND r.confidence >= $7
             AND NOT (r.checkpoint_id = $8 AND r.id = $9)
             AND ST_DistanceSphere(c.geom, ST_MakePoint($5, $4)) >= $6
           UNION ALL
           SELECT ts, lat, lon, 'fix' FROM positions
           WHERE plate = $1 AND ts BETWEEN $2 AND $3 AND ST_DistanceSphere(ST_MakePoint(lon, lat), ST_MakePoint($5, $4)) >= $6""",
        read["plate"], at - window, at + window, checkpoint.lat, checkpoint.lon, min_m, min_confidence,
        read["checkpoint_id"], read["id"])
    return [(epoch_ms(r["ts"]), r["lat"], r["lon"], r["what"]) for r in rows]


async def decided_before(conn, violation_id: str) -> bool:
    """Is this violation stored already (one a plate a day; one a pair of sightings)?"""
    return bool(await conn.fetchval("SELECT 1 FROM violations WHERE violation_id = $1", violation_id))


async def save_checks(conn, decided: dict[tuple[str, str], tuple[bool | None, dict]]) -> None:
    """Each read's (matched, checks); a read decided leaves the pending list."""
    await conn.executemany("UPDATE plate_reads SET matched = $3, checks = $4 WHERE checkpoint_id = $1 AND id = $2",
                           [(cp, rid, matched, checks) for (cp, rid), (matched, checks) in decided.items()])
    await conn.executemany("DELETE FROM pending_read_checks WHERE checkpoint_id = $1 AND read_id = $2",
                           [key for key, (_, checks) in decided.items() if checks.get("gps") != "pending"])


async def add_pending(conn, reads: list[dict]) -> None:
    await conn.executemany(
        """INSERT INTO pending_read_checks (checkpoint_id, read_id, plate, ts) VALUES ($1, $2, $3, $4)
           ON CONFLICT DO NOTHING""", [(r["checkpoint_id"], r["id"], r["plate"], utc(r["ts"])) for r in reads])


async def pending(conn, limit: int = 500) -> list[dict]:
    """Reads waiting for their vehicle's track, oldest first, with their stored checks."""
    rows = await conn.fetch(
        """SELECT r.read, r.checks FROM pending_read_checks p
           JOIN plate_reads r ON r.checkpoint_id = p.checkpoint_id AND r.id = p.read_id
           ORDER BY p.ts LIMIT $1 FOR UPDATE OF p SKIP LOCKED""", limit)
    return [dict(r["read"], _checks=r["checks"]) for r in rows]


async def reads_of(pool: asyncpg.Pool, plate: str, since, until, limit: int = 1000) -> list[asyncpg.Record]:
    return await pool.fetch(
        """SELECT r.read, r.matched, c.name AS checkpoint_name FROM plate_reads r
           LEFT JOIN checkpoints c ON c.id = r.checkpoint_id
           WHERE r.plate = $1 AND ($2::timestamptz IS NULL OR r.ts >= $2) AND ($3::timestamptz IS NULL OR r.ts < $3)
           ORDER BY r.ts DESC LIMIT $4""", plate, since, until, limit)
