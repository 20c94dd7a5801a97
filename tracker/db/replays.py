"""What a fix worker reads back to replay late fixes: rule-state checkpoints, the stored
track after them, and the violations the replay re-decides."""
from __future__ import annotations

import asyncpg

from streams.rules.violations import Violation
from streams.times import epoch_ms
from tracker.db.violations import COLUMNS, violation_of


async def checkpoints_before(pool: asyncpg.Pool, oldest: dict[str, int]) -> dict[str, tuple[int, dict]]:
    """Per plate, the newest stored rule state taken at or before that plate's event time
    (plates with none are left out); one query for every vehicle a batch replays."""
    rows = await pool.fetch(
        """SELECT DISTINCT ON (c.plate) c.plate, c.at, c.state
           FROM vehicle_checkpoints c JOIN unnest($1::text[], $2::timestamptz[]) AS late(plate, ts)
             ON c.plate = late.plate AND c.at <= late.ts
           ORDER BY c.plate, c.at DESC""", list(oldest), list(oldest.values()))
    return {r["plate"]: (epoch_ms(r["at"]), r["state"]) for r in rows}


async def prune_checkpoints(pool: asyncpg.Pool, before_ts: int) -> int:
    """Drop checkpoints no late fix can need: older than `before_ts`, except each vehicle's
    newest such one (a fix just inside the window replays from it)."""
    done = await pool.execute(
        """DELETE FROM vehicle_checkpoints c WHERE c.at < $1 AND EXISTS (
             SELECT 1 FROM vehicle_checkpoints n WHERE n.plate = c.plate AND n.at > c.at AND n.at <= $1)""",
        before_ts)
    return int(done.split()[-1])


async def arisen_since(pool: asyncpg.Pool, since: dict[str, int], kinds: tuple[str, ...]) -> list[Violation]:
    """The violations of these kinds each plate had still open at its event time or begun
    after it, not withdrawn: what a replay from checkpoints at those times re-decides."""
    rows = await pool.fetch(
        f"""SELECT {", ".join(f"v.{c.strip()}" for c in COLUMNS.split(","))}
            FROM violations v JOIN unnest($1::text[], $2::timestamptz[]) AS replay(plate, at) ON v.plate = replay.plate
            WHERE v.kind = ANY($3::text[]) AND (v.ended_at IS NULL OR v.ended_at > replay.at)
              AND NOT coalesce((v.details->>'withdrawn')::boolean, false)""",
        list(since), list(since.values()), list(kinds))
    return [violation_of(r) for r in rows]


async def history(pool: asyncpg.Pool, since: dict[str, int]) -> list[dict]:
    """The stored fixes of each plate after that plate's event time, in one query, marked
    "stored" (streams.batch.process runs the rules over them but does not store them again)."""
    rows = await pool.fetch(
        """SELECT p.plate, p.ts, p.lat, p.lon, p.speed_kmh, p.heading_deg, p.source, p.received_at
           FROM positions p JOIN unnest($1::text[], $2::timestamptz[]) AS replay(plate, at)
             ON p.plate = replay.plate AND p.ts > replay.at
           ORDER BY p.plate, p.ts""", list(since), list(since.values()))
    return [{"plate": r["plate"], "ts": epoch_ms(r["ts"]), "lat": r["lat"], "lon": r["lon"], "speed_kmh": r["speed_kmh"],
             "heading_deg": r["heading_deg"], "source": r["source"], "received_at": epoch_ms(r["received_at"]),
             "stored": True}
            for r in rows]
