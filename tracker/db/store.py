"""What the worker reads from and writes to PostGIS; one transaction per consumed batch."""
from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime, timedelta, timezone

import asyncpg
import orjson

from streams.rules.state import VehicleState
from streams.rules.violations import ms, rfc3339
from streams.rules.waybills import ActiveWaybill

VIOLATION_COLUMNS = """violation_id, kind, plate, carrier_id, status, started_at, ended_at, lat, lon, geofence_id,
                       waybill_id, severity, agencies, details"""
OUTBOX_COLUMNS = ["topic", "key", "event_id", "value"]
POSITION_COLUMNS = ["plate", "ts", "lat", "lon", "speed_kmh", "heading_deg", "alt_m", "h3_cell", "source",
                    "received_at"]


def utc(ms: int) -> datetime:
    return datetime.fromtimestamp(ms / 1000, timezone.utc)


EPOCH = datetime(1970, 1, 1, tzinfo=timezone.utc)


def epoch_ms(value: datetime) -> int:
    return (value - EPOCH) // timedelta(milliseconds=1)  # exact; float seconds lose milliseconds


@dataclass
class BatchResult:
    """Everything one consumed batch changes, written atomically with its offsets. Held as
    rows built when the batch was processed: the worker goes on to the next batch (and
    mutates its states) while this one is being written."""

    positions: list[tuple] = field(default_factory=list)  # POSITION_COLUMNS, times as epoch ms
    states: list[tuple] = field(default_factory=list)  # state_row()
    violations: list[tuple] = field(default_factory=list)  # violation_row(), one per id
    outbox: list[tuple[str, str | None, str, bytes]] = field(default_factory=list)  # topic, key, event id, value
    offsets: dict[tuple[str, int], int] = field(default_factory=dict)  # (topic, partition) -> next offset
    checkpoints: list[tuple[str, int, bytes]] = field(default_factory=list)  # plate, event time, snapshot
    replayed: dict[str, int] = field(default_factory=dict)  # plate -> event time its replay started from

    @classmethod
    def merged(cls, results: list["BatchResult"]) -> "BatchResult":
        """Consecutive results as one: rows in order, the last state of each vehicle and the
        last record of each violation, the newest offsets."""
        if len(results) == 1:
            return results[0]
        out = cls()
        for r in results:
            out.positions += r.positions
            out.outbox += r.outbox
            out.checkpoints += r.checkpoints
            out.offsets.update(r.offsets)
            out.replayed.update(r.replayed)
        out.states = list({row[0]: row for r in results for row in r.states}.values())
        out.violations = list({row[0]: row for r in results for row in r.violations}.values())
        return out


def state_row(state: VehicleState) -> tuple:
    status = "offline" if "offline" in state.open else "stopped" if state.stopped else "moving"
    return (state.plate, state.snapshot(), state.last_ts, state.last_lat, state.last_lon, state.last_speed, status)


def violation_row(v: dict) -> tuple:
    return (v["violation_id"], v["kind"], v["plate"], v["carrier_id"], v["status"], ms(v["started_at"]),
            ms(v["ended_at"]) if v["ended_at"] else None, v["lat"], v["lon"], v["geofence_id"], v["waybill_id"],
            v["severity"], v["agencies"], dict(v["details"]))  # details of an open violation change in place


async def changed_geofences(pool: asyncpg.Pool, since: datetime | None) -> list[asyncpg.Record]:
    return await pool.fetch(
        """SELECT id, kind, name, active, properties, version, deleted_at, updated_at,
                  ST_AsGeoJSON(geom)::text AS geometry
           FROM geofences WHERE $1::timestamptz IS NULL OR updated_at > $1 ORDER BY updated_at""", since)


async def changed_waybills(pool: asyncpg.Pool, since: datetime | None) -> list[tuple[datetime, ActiveWaybill]]:
    rows = await pool.fetch(
        """SELECT id, plate, un_number, valid_from, valid_to, origin, destination, updated_at,
                  ST_AsGeoJSON(route)::text AS route
           FROM waybills WHERE $1::timestamptz IS NULL OR updated_at > $1 ORDER BY updated_at""", since)
    return [(r["updated_at"], ActiveWaybill(
        id=r["id"], plate=r["plate"], un_number=r["un_number"], valid_from=epoch_ms(r["valid_from"]),
        valid_to=epoch_ms(r["valid_to"]), origin=(r["origin"]["lat"], r["origin"]["lon"]),
        destination=(r["destination"]["lat"], r["destination"]["lon"]), route=orjson.loads(r["route"])))
        for r in rows]


async def stored_offsets(pool: asyncpg.Pool, group: str, topic: str) -> dict[int, int]:
    rows = await pool.fetch("SELECT partition, next_offset FROM consumer_offsets WHERE group_id = $1 AND topic = $2",
                            group, topic)
    return {r["partition"]: r["next_offset"] for r in rows}


async def stored_states(pool: asyncpg.Pool) -> list[VehicleState]:
    rows = await pool.fetch("SELECT state FROM vehicle_state")
    return [VehicleState.from_json(r["state"]) for r in rows]


async def ensure_days(conn: asyncpg.Connection, first: date, last: date) -> None:
    """Day partitions of `positions` for every day from first to last."""
    await conn.execute("SELECT hazmat_ensure_position_partitions($1, $2)", first, last)


async def write_batch(pool: asyncpg.Pool, group: str, result: BatchResult, days_made: set[date] | None = None) -> None:
    """`days_made` remembers the positions partitions known to exist (partitions are never
    dropped), so a batch of today's fixes spends no round trip on them."""
    days_made = set() if days_made is None else days_made
    async with pool.acquire() as conn, conn.transaction():
        if result.positions:
            times = [p[1] for p in result.positions]
            first, last = utc(min(times)).date(), utc(max(times)).date()
            if first not in days_made or last not in days_made:
                await ensure_days(conn, first, last)
            await conn.copy_records_to_table("positions", records=result.positions, columns=POSITION_COLUMNS)
        await upsert_states(conn, result.states)
        if result.replayed:  # checkpoints taken after the replay's start no longer hold
            await conn.executemany("DELETE FROM vehicle_checkpoints WHERE plate = $1 AND at > $2",
                                   list(result.replayed.items()))
        if result.checkpoints:
            await conn.executemany(
                """INSERT INTO vehicle_checkpoints (plate, at, state) VALUES ($1, $2, $3)
                   ON CONFLICT (plate, at) DO UPDATE SET state = EXCLUDED.state""",
                result.checkpoints)
        await upsert_violations(conn, result.violations)
        await insert_outbox(conn, result.outbox)
        await save_offsets(conn, group, result.offsets)
    if result.positions:  # committed: the partitions exist
        days_made.update({first, last})


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


async def arisen_since(pool: asyncpg.Pool, since: dict[str, int], kinds: tuple[str, ...]) -> list[dict]:
    """The violations of these kinds each plate had still open at its event time or begun
    after it, not withdrawn: what a replay from checkpoints at those times re-decides."""
    rows = await pool.fetch(
        f"""SELECT {", ".join(f"v.{c.strip()}" for c in VIOLATION_COLUMNS.split(","))}
            FROM violations v JOIN unnest($1::text[], $2::timestamptz[]) AS replay(plate, at) ON v.plate = replay.plate
            WHERE v.kind = ANY($3::text[]) AND (v.ended_at IS NULL OR v.ended_at > replay.at)
              AND NOT coalesce((v.details->>'withdrawn')::boolean, false)""",
        list(since), list(since.values()), list(kinds))
    return [as_violation(r) for r in rows]


def as_violation(row) -> dict:
    """A violations row as the Violation object of CONTRACTS.md."""
    out = dict(row)
    out["started_at"] = rfc3339(epoch_ms(row["started_at"]))
    out["ended_at"] = rfc3339(epoch_ms(row["ended_at"])) if row["ended_at"] else None
    return out


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


async def emitted(pool: asyncpg.Pool, event_ids: list[str]) -> set[str]:
    rows = await pool.fetch("SELECT DISTINCT event_id FROM outbox WHERE event_id = ANY($1::text[])", event_ids)
    return {r["event_id"] for r in rows}


async def upsert_states(conn: asyncpg.Connection, rows: list[tuple]) -> None:
    """Rows of state_row()."""
    if rows:
        await conn.executemany(
            """INSERT INTO vehicle_state (plate, state, last_ts, lat, lon, speed_kmh, heading_deg, status, updated_at)
               VALUES ($1, $2, $3, $4, $5, $6, NULL, $7, now())
               ON CONFLICT (plate) DO UPDATE SET state = EXCLUDED.state, last_ts = EXCLUDED.last_ts,
                 lat = EXCLUDED.lat, lon = EXCLUDED.lon, speed_kmh = EXCLUDED.speed_kmh,
                 status = EXCLUDED.status, updated_at = now()""", rows)


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


async def insert_outbox(conn: asyncpg.Connection, rows: list[tuple]) -> None:
    """By COPY: a batch in which many vehicles break a rule at once writes thousands of rows
    (each event to hazmat.violations.v1 and to every agency's topic), and COPY takes them
    in a fraction of the time of one INSERT each."""
    if rows:
        await conn.copy_records_to_table("outbox", records=rows, columns=OUTBOX_COLUMNS)


async def save_offsets(conn: asyncpg.Connection, group: str, offsets: dict[tuple[str, int], int]) -> None:
    await conn.executemany(
        """INSERT INTO consumer_offsets (group_id, topic, partition, next_offset, updated_at)
           VALUES ($1, $2, $3, $4, now())
           ON CONFLICT (group_id, topic, partition) DO UPDATE SET next_offset = EXCLUDED.next_offset,
             updated_at = now()""",
        [(group, topic, partition, offset) for (topic, partition), offset in offsets.items()])


async def forget_offsets(pool: asyncpg.Pool) -> int:
    """Drop every stored consumer offset: for a broker whose topics are new (the embedded
    in-memory broker after a restart), where old offsets would skip their records."""
    return int((await pool.execute("DELETE FROM consumer_offsets")).split()[-1])
