"""`hazmat worker`: the member of the consumer group on hazmat.fixes.v1.

Per batch: decode, run the core, then in one PostGIS transaction write positions,
vehicle state, violations, the outbox and the consumed offsets; then relay the outbox.
A member that takes over a partition resumes from the offset stored with the results,
so a crash repeats at most the uncommitted batch, with the same violation ids.
"""
from __future__ import annotations

import time

import asyncpg

from streams.batch import Outcome, process, tick_all
from streams.kafka import Publisher, partition_for
from streams.rules.engine import Context
from streams.rules.state import VehicleState
from streams.topics import Topics
from tracker import outbox
from tracker.consuming import PartitionedLoop
from tracker.db import store
from tracker.settings import Settings

REQUIRED = frozenset({"plate", "ts", "lat", "lon", "speed_kmh"})


class Worker(PartitionedLoop):
    def __init__(self, settings: Settings, pool: asyncpg.Pool, publisher: Publisher) -> None:
        self.topics = Topics(settings.topic_prefix)
        super().__init__(settings, pool, self.topics.fixes, settings.worker_group)
        self.publisher = publisher
        self.index = self.refs.index
        self.ctx = Context(self.index.geofences, self.refs.waybill_at)
        self.states: dict[str, VehicleState] = {}
        self.watermark: int | None = None

    def _owns(self, plate: str) -> bool:
        return partition_for(plate.encode(), list(range(self.partition_count))) in self.owned

    async def load_owned(self) -> None:
        self.states = {s.plate: s for s in await store.stored_states(self.pool) if self._owns(s.plate)}

    def _result(self, outcome: Outcome) -> store.BatchResult:
        result = store.BatchResult()
        result.positions = [
            (f["plate"], store.utc(f["ts"]), f["lat"], f["lon"], f["speed_kmh"], f["heading_deg"], f.get("alt_m"),
             f["h3_cell"], f.get("source", "http"), store.utc(f.get("received_at", f["ts"])))
            for f in outcome.positions]
        result.states = {p: self.states[p] for p in outcome.touched}
        for _, violation in outcome.events:
            result.violations[violation["violation_id"]] = violation
        result.outbox = outbox.rows(self.topics, outcome.events)
        return result

    async def handle(self, records: dict[int, list]) -> None:
        fixes, dead = self.decode(records, REQUIRED, "a normalised fix")
        await self.publisher.publish(self.topics.deadletter, dead)
        outcome = process(fixes, self.states, self.index, self.ctx)
        if outcome.max_ts is not None:
            self.watermark = max(self.watermark or outcome.max_ts, outcome.max_ts)
        result = self._result(outcome)
        result.offsets = self.offsets_of(records)
        await store.write_batch(self.pool, self.group, result)

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
