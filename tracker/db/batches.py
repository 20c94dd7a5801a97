"""A fix worker's batch as one transaction: positions, states, checkpoints, violations,
outbox rows and the consumed offsets, all or nothing."""
from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date

import asyncpg

from streams.times import utc
from tracker.db import positions
from tracker.db.clocks import save_event_times
from tracker.db.offsets import save_offsets
from tracker.db.outbox import insert_outbox
from tracker.db.states import upsert_states
from tracker.db.violations import upsert_violations


@dataclass
class BatchResult:
    """Everything one consumed batch changes, written atomically with its offsets. Held as
    rows built when the batch was processed: the worker goes on to the next batch (and
    mutates its states) while this one is being written."""

    positions: list[tuple] = field(default_factory=list)  # positions.COLUMNS, times as epoch ms
    states: list[tuple] = field(default_factory=list)  # states.state_row(), of `touched`, taken at submission
    touched: set[str] = field(default_factory=set)  # plates whose state the batch changed
    violations: list[tuple] = field(default_factory=list)  # violations.violation_row(), one per id
    outbox: list[tuple[str, str | None, str, bytes]] = field(default_factory=list)  # topic, key, event id, value
    offsets: dict[tuple[str, int], int] = field(default_factory=dict)  # (topic, partition) -> next offset
    checkpoints: list[tuple[str, int, bytes]] = field(default_factory=list)  # plate, event time, snapshot
    replayed: dict[str, int] = field(default_factory=dict)  # plate -> event time its replay started from
    # (topic, partition) -> (event_ms, received_ms, partition count): the partitions' clocks
    clocks: dict[tuple[str, int], tuple[int, int, int]] = field(default_factory=dict)

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
            out.clocks.update(r.clocks)
        out.touched = set().union(*(r.touched for r in results))
        out.violations = list({row[0]: row for r in results for row in r.violations}.values())
        return out


async def write_batch(pool: asyncpg.Pool, group: str, result: BatchResult, days_made: set[date] | None = None) -> None:
    """`days_made` remembers the positions partitions known to exist, so a batch of today's
    fixes spends no round trip on them (the retention task drops only days long past)."""
    days_made = set() if days_made is None else days_made
    async with pool.acquire() as conn, conn.transaction():
        if result.positions:
            times = [p[1] for p in result.positions]
            first, last = utc(min(times)).date(), utc(max(times)).date()
            if first not in days_made or last not in days_made:
                await positions.ensure_days(conn, first, last)
            await conn.copy_records_to_table("positions", records=result.positions, columns=positions.COLUMNS)
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
        await save_event_times(conn, group, result.clocks)
    if result.positions:  # committed: the partitions exist
        days_made.update({first, last})
