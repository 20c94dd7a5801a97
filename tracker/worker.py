"""`hazmat worker`: the member of the consumer group on hazmat.fixes.v1.

Per batch: decode, run the core, then in one PostGIS transaction write positions,
vehicle state, violations, the outbox and the consumed offsets; then relay the outbox.
A member that takes over a partition resumes from the offset stored with the results,
so a crash repeats at most the uncommitted batch, with the same violation ids.
"""
from __future__ import annotations

import gc
import time

import asyncpg

from streams.batch import Outcome, process, tick_all
from streams.kafka import Publisher, partition_for
from streams.rules.engine import Context
from streams.rules.state import VehicleState
from streams.rules.violations import event_id
from streams.topics import Topics
from tracker import outbox
from tracker.consuming import PartitionedLoop
from tracker.db import store
from tracker.metrics import LATE_REPLAYS
from tracker.settings import Settings

REQUIRED = frozenset({"plate", "ts", "lat", "lon", "speed_kmh"})
# Late fixes up to this much event time behind a vehicle's newest are replayed through
# the rules (up to twice as much, depending on where the checkpoint rotation stands).
CHECKPOINT_MS = 3600_000
# Every batch allocates ~20 000 fix dicts; at Python's default threshold (700) the cyclic
# collector runs ~30 times a batch and rescans the long-lived geofence index and states.
# Measured by bench.worker: ~15 % of the worker's CPU, gone at this threshold.
GC_THRESHOLD = (50_000, 20, 100)


class Worker(PartitionedLoop):
    def __init__(self, settings: Settings, pool: asyncpg.Pool, publisher: Publisher) -> None:
        self.topics = Topics(settings.topic_prefix)
        super().__init__(settings, pool, self.topics.fixes, settings.worker_group)
        self.publisher = publisher
        self.index = self.refs.index
        self.ctx = Context(self.index.geofences, self.refs.waybill_at)
        self.states: dict[str, VehicleState] = {}
        self.watermark: int | None = None
        gc.set_threshold(*GC_THRESHOLD)

    def _owns(self, plate: str) -> bool:
        return partition_for(plate.encode(), list(range(self.partition_count))) in self.owned

    async def load_owned(self) -> None:
        self.states = {s.plate: s for s in await store.stored_states(self.pool) if self._owns(s.plate)}

    def _result(self, outcome: Outcome) -> store.BatchResult:
        result = store.BatchResult()
        received: dict[int, object] = {}  # the API stamps one received_at per request: convert each once
        result.positions = [
            (f["plate"], store.utc(f["ts"]), f["lat"], f["lon"], f["speed_kmh"], f["heading_deg"], f.get("alt_m"),
             f["h3_cell"], f.get("source", "http"), received.get(r) or received.setdefault(r, store.utc(r)))
            for f in outcome.positions for r in (f.get("received_at", f["ts"]),)]
        result.states = {p: self.states[p] for p in outcome.touched}
        for _, violation in outcome.events:
            result.violations[violation["violation_id"]] = violation
        result.outbox = outbox.rows(self.topics, outcome.events)
        return result

    async def handle(self, records: dict[int, list]) -> None:
        fixes, dead = self.decode(records, REQUIRED, "a normalised fix")
        await self.publisher.publish(self.topics.deadletter, dead)
        history = await self._replay_late(fixes)
        outcome = process(history + fixes, self.states, self.index, self.ctx, stored=len(history))
        if history:  # a replay repeats events already sent; send only what is new
            sent = await store.emitted(self.pool, [event_id(v, t) for t, v in outcome.events])
            outcome.events = [(t, v) for t, v in outcome.events if event_id(v, t) not in sent]
        if outcome.max_ts is not None:
            self.watermark = max(self.watermark or outcome.max_ts, outcome.max_ts)
        result = self._result(outcome)
        result.checkpoints = self._checkpoints(outcome)
        result.offsets = self.offsets_of(records)
        await store.write_batch(self.pool, self.group, result)

    async def _replay_late(self, fixes: list[dict]) -> list[dict]:
        """For vehicles with fixes older than their newest (blind-area back-fill), go back to
        a stored checkpoint before the oldest of them and return the stored fixes since it,
        so the rules see the whole track in event-time order again."""
        oldest: dict[str, int] = {}
        for f in fixes:
            state = self.states.get(f["plate"])
            if state is not None and state.last_ts is not None and f["ts"] < state.last_ts:
                oldest[f["plate"]] = min(f["ts"], oldest.get(f["plate"], f["ts"]))
        history = []
        for plate, ts in oldest.items():
            found = await store.checkpoint_before(self.pool, plate, ts)
            if found is None:
                continue  # older than any checkpoint: stored, but the rules do not see it
            at, snapshot = found
            LATE_REPLAYS.inc()
            self.states[plate] = VehicleState.from_json(snapshot)
            history += await store.history(self.pool, plate, at)
        return history

    def _checkpoints(self, outcome: Outcome) -> list[tuple[str, int, dict]]:
        """Rotate a vehicle's checkpoints every CHECKPOINT_MS of its event time."""
        out = []
        for plate in outcome.touched:
            state = self.states[plate]
            if state.last_ts is not None and (state.checkpoint_ts is None
                                              or state.last_ts - state.checkpoint_ts >= CHECKPOINT_MS):
                state.checkpoint_ts = state.last_ts
                out.append((plate, state.last_ts, state.to_json()))
        return out

    async def periodic(self, idle: bool) -> None:
        """Offline timers (event time while there is a backlog, wall time once caught up); relay."""
        now = self.watermark
        if idle:
            now = max(now or 0, int(time.time() * 1000))
        if now is not None:
            outcome = tick_all(self.states, now, self.ctx)
            if outcome.events:
                await store.write_batch(self.pool, self.group, self._result(outcome))
        await outbox.relay(self.pool, self.publisher)
