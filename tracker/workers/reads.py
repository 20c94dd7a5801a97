"""The checkpoint cameras' reads, a consumer group of its own on hazmat.plate_reads.v1.

Each new read is stored (a repeat id of a checkpoint is one read), then judged:
`unregistered_vehicle` and `cloned_plate` at once; `gps_missing` (有抓拍无轨迹) as the
filling presence check is: matched as soon as a fix of the vehicle lies near the
checkpoint within the read's window, missing only once the vehicle's track covers the
window (streams.clock.window_due on its own partition's time, the same clocks), so fixes
and reads may arrive in any order. Reads waiting are kept in PostGIS
(`pending_read_checks`), so a restart or a rebalance loses none, and verdict ids follow
from the read, so a replay repeats only what consumers drop.
"""
from __future__ import annotations

import asyncpg

from checkpoints.checks import (LOW_CONFIDENCE, MATCHED, MISSING, PENDING, UNREGISTERED, Checkpoint, clone_conflict,
                                cloned, gps_missing, gps_verdict, unregistered)
from streams.clock import WindowClocks, window_due
from streams.fix import MAX_AGE_MS
from streams.kafka import Publisher
from streams.times import now_ms, rfc3339
from streams.topics import Topics
from tracker.db import checkpoints as stored
from tracker.db.clocks import window_clocks
from tracker.db.filling import fixes_around
from tracker.db.offsets import save_offsets
from tracker.metrics import READ_CHECKS
from tracker.settings import Settings
from tracker.workers import outbox
from tracker.workers.loop import Handler, Partitions, decode
from tracker.workers.references import References


class ReadWorker(Handler):
    def __init__(self, settings: Settings, pool: asyncpg.Pool, publisher: Publisher, refs: References) -> None:
        topics = Topics(settings.topic_prefix)
        super().__init__(settings, pool, publisher, topics, topics.plate_reads, f"{settings.worker_group}-reads", refs)
        self.config = settings.checkpoints

    async def _tracks(self, conn, reads: list[dict]) -> dict[str, WindowClocks]:
        """How far each read's vehicle's track has got (the fix workers' clocks)."""
        plates = sorted({r["plate"] for r in reads})
        return await window_clocks(conn, self.settings.worker_group, self.topics.fixes, plates) if plates else {}

    async def _gps(self, conn, read: dict, checkpoint: Checkpoint, carrier_id: str, track: WindowClocks,
                   checks: dict) -> list[dict]:
        """The GPS check of a confident read of a registered vehicle; gps_missing when decided so."""
        cfg = self.config
        window_over = window_due(read["ts"] + cfg.window_ms, track, now_ms(), self.tuning.window_wait_ms)
        fixes = await fixes_around(conn, read["plate"], read["ts"], cfg.window_ms)
        checks["gps"] = gps_verdict(checkpoint, fixes, window_over, cfg)
        if checks["gps"] == PENDING:
            return []
        found = await self._clone(conn, read, checkpoint, carrier_id, checks)  # fixes since the read came
        if checks["gps"] != MISSING:
            return found
        last = await stored.last_fix(conn, read["plate"], read["ts"] + cfg.window_ms, MAX_AGE_MS)
        waybill = self.refs.waybill_at(read["plate"], read["ts"])
        violation = gps_missing(read, checkpoint, carrier_id, waybill.id if waybill else None, last)
        checks["gps_details"] = {"last_fix_at": rfc3339(last[0]) if last else None}
        return found + [violation]

    async def _clone(self, conn, read: dict, checkpoint: Checkpoint, carrier_id: str | None, checks: dict) -> list[dict]:
        """cloned_plate when another read or a fix of the plate could not have been reached
        (asked when the read comes and, for a registered vehicle, again once its track
        covers the read's window; one a read)."""
        if checks.get("cloned"):
            return []
        cfg = self.config
        conflict = clone_conflict(read, checkpoint, await stored.far_sightings(
            conn, read, checkpoint, cfg.clone_horizon_ms, cfg.clone_min_m, cfg.min_confidence), cfg)
        checks["cloned"] = conflict is not None
        if conflict is None:
            return []
        violation = cloned(read, checkpoint, carrier_id, conflict)
        return [] if await stored.decided_before(conn, violation.violation_id) else [violation]

    async def _check_new(self, conn, read: dict, checkpoint: Checkpoint, carrier_id: str | None,
                         track: WindowClocks | None) -> tuple[dict, list[dict]]:
        cfg, checks, violations = self.config, {"carrier_id": carrier_id}, []
        confident = read["confidence"] >= cfg.min_confidence
        if not confident:
            checks["gps"] = LOW_CONFIDENCE
            return checks, []
        violations += await self._clone(conn, read, checkpoint, carrier_id, checks)
        if carrier_id is None:
            checks["gps"] = UNREGISTERED
            violation = unregistered(read, checkpoint)
            if not await stored.decided_before(conn, violation.violation_id):
                violations.append(violation)  # (one a plate and local day)
        else:
            violations += await self._gps(conn, read, checkpoint, carrier_id, track, checks)
        return checks, violations

    async def handle(self, records: dict[int, list], partitions: Partitions) -> None:
        reads, dead = decode(records, "normalised_plate_read.schema.json", "a plate read as the intake publishes it",
                             self.group, self.topic)
        await self.publisher.publish(self.topics.deadletter, dead)
        async with self.pool.acquire() as conn, conn.transaction():
            new = await stored.insert_new(conn, reads) if reads else set()
            fresh = [r for r in reads if (r["checkpoint_id"], r["id"]) in new]
            places = await stored.all_checkpoints(conn) if fresh else {}
            carriers = await stored.carriers(conn, sorted({r["plate"] for r in fresh}))
            tracks = await self._tracks(conn, fresh)
            decided, violations, waiting = {}, [], []
            for read in fresh:
                key = (read["checkpoint_id"], read["id"])
                if key in decided or read["checkpoint_id"] not in places:
                    continue  # (a checkpoint deleted since the intake: stored, judged by nothing)
                checks, found = await self._check_new(conn, read, places[read["checkpoint_id"]],
                                                      carriers.get(read["plate"]), tracks.get(read["plate"]))
                decided[key] = (_matched(checks), checks)
                violations += found
                if checks["gps"] == PENDING:
                    waiting.append(read)
            await stored.add_pending(conn, waiting)
            await self._save(conn, decided, violations)
            await save_offsets(conn, self.group, partitions.offsets_of(records))

    async def _save(self, conn, decided: dict, violations: list[dict]) -> None:
        """Each read's checks name the violations it opened; those go through the outbox (one
        of each id: two reads of a batch may find the same day's or pair's verdict)."""
        violations = list({v.violation_id: v for v in reversed(violations)}.values())[::-1]
        for _, checks in decided.values():
            if checks["gps"] != PENDING:
                READ_CHECKS.labels(checks["gps"]).inc()
        for v in violations:
            checks = decided[(v.details["checkpoint_id"], v.details["read_id"])][1]
            checks["violations"] = checks.get("violations", []) + [v.violation_id]
        await stored.save_checks(conn, decided)
        await outbox.save_decided(conn, self.topics, violations)

    async def periodic(self, fed: set[int], partitions: Partitions) -> None:
        """Reads waiting for their vehicle's track, judged again on the clocks as they are."""
        async with self.pool.acquire() as conn, conn.transaction():
            waiting = await stored.pending(conn)
            if waiting:
                places = await stored.all_checkpoints(conn)
                tracks = await self._tracks(conn, waiting)
                decided, violations = {}, []
                for read in waiting:
                    checks = read.pop("_checks")
                    checkpoint = places.get(read["checkpoint_id"])
                    if checkpoint is None:
                        checks["gps"] = "no_checkpoint"
                    else:
                        violations += await self._gps(conn, read, checkpoint, checks.get("carrier_id"),
                                                      tracks[read["plate"]], checks)
                    if checks["gps"] != PENDING:
                        decided[(read["checkpoint_id"], read["id"])] = (_matched(checks), checks)
                await self._save(conn, decided, violations)
        await outbox.relay(self.pool, self.publisher)


def _matched(checks: dict) -> bool | None:
    """The read's `matched` (KPI checkpoint_match_rate): decided GPS checks only."""
    return {MATCHED: True, MISSING: False}.get(checks["gps"])
