"""`hazmat worker`: one member of the consumer group on hazmat.fixes.v1.

Per batch: decode, run the core, then in one PostGIS transaction write positions,
vehicle state, violations, the outbox and the consumed offsets; then relay the outbox
to Kafka. A member that takes over a partition seeks to the offset stored with the
results, so a crash repeats at most the uncommitted batch, with the same violation ids.
"""
from __future__ import annotations

import asyncio
import logging
import time
from datetime import datetime

import asyncpg
import orjson

from geofence.index import GeofenceIndex
from geofence.model import compile_geofence
from streams.batch import Outcome, process, tick_all
from streams.kafka import BrokerUnavailable, Publisher, group_consumer, partition_for, seek, seek_to_beginning
from streams.rules.engine import Context
from streams.rules.state import VehicleState
from streams.rules.violations import cloud_event, event_id
from streams.rules.waybills import ActiveWaybill, active
from streams.topics import Topics
from tracker.db import store
from tracker.settings import Settings

log = logging.getLogger(__name__)
REFRESH_S = 2.0
# Larger batches spread the per-batch writes (vehicle states, offsets) over more fixes.
BATCH = 20_000
# Kafka brokers hold a fetch up to this long waiting for data; the default 500 ms would
# be most of the latency from fix to violation event.
FETCH_WAIT_MS = 50


class Worker:
    def __init__(self, settings: Settings, pool: asyncpg.Pool, publisher: Publisher) -> None:
        self.settings, self.pool, self.publisher, self.group = settings, pool, publisher, settings.worker_group
        self.topics = Topics(settings.topic_prefix)
        self.index = GeofenceIndex()
        self.waybills: dict[str, dict[str, ActiveWaybill]] = {}
        self.ctx = Context(self.index.geofences, self._waybill_at)
        self.states: dict[str, VehicleState] = {}
        self.owned: set[int] = set()
        self.partition_count = settings.topic_partitions
        self.watermark: int | None = None
        self._geofences_seen: datetime | None = None
        self._waybills_seen: datetime | None = None
        self._consumer = None
        # A rebalance waits for the batch in hand to commit, so a partition's new owner
        # loads the state and offsets that batch wrote (the listener runs in aiokafka's task).
        self._busy = asyncio.Lock()
        self._stale = False  # in-memory state or positions may be ahead of PostGIS
        # Per owned partition, the offset the next batch must start at (None: from the start).
        # Records fetched before a rewind's seek do not match it and are dropped.
        self._next: dict[int, int | None] = {}

    def _waybill_at(self, plate: str, ts: int) -> ActiveWaybill | None:
        return active(list(self.waybills.get(plate, {}).values()), ts)

    async def refresh(self) -> None:
        """Geofence and waybill changes reach the running worker; only changed geofences re-cover."""
        for row in await store.changed_geofences(self.pool, self._geofences_seen):
            if row["deleted_at"] is not None or not row["active"]:
                self.index.remove(row["id"])
            else:
                props = dict(row["properties"], kind=row["kind"], name=row["name"])
                self.index.put(compile_geofence(row["id"], row["version"], orjson.loads(row["geometry"]), props))
            self._geofences_seen = row["updated_at"]
        for updated_at, waybill in await store.changed_waybills(self.pool, self._waybills_seen):
            for plate_waybills in self.waybills.values():
                plate_waybills.pop(waybill.id, None)
            self.waybills.setdefault(waybill.plate, {})[waybill.id] = waybill
            self._waybills_seen = updated_at

    async def _assigned(self, partitions: list[int]) -> None:
        async with self._busy:
            self.owned = set(partitions)
            self.partition_count = len(self._consumer.partitions_for_topic(self.topics.fixes) or partitions)
            await self._rewind()
            log.info("worker owns partitions %s (%d vehicles)", partitions, len(self.states))

    async def _revoked(self, partitions: list[int]) -> None:
        async with self._busy:
            self.owned -= set(partitions)
            self.states = {p: s for p, s in self.states.items() if self._owns(p)}

    def _owns(self, plate: str) -> bool:
        return partition_for(plate.encode(), list(range(self.partition_count))) in self.owned

    def _result(self, outcome: Outcome) -> store.BatchResult:
        result = store.BatchResult()
        result.positions = [
            (f["plate"], store.utc(f["ts"]), f["lat"], f["lon"], f["speed_kmh"], f["heading_deg"], f.get("alt_m"),
             f["h3_cell"], f.get("source", "http"), store.utc(f.get("received_at", f["ts"])))
            for f in outcome.positions]
        result.states = {p: self.states[p] for p in outcome.touched}
        for event_type, violation in outcome.events:
            result.violations[violation["violation_id"]] = violation
            value = orjson.dumps(cloud_event(event_type, violation))
            eid = event_id(violation, event_type)
            result.outbox.append((self.topics.violations, violation["plate"], eid, value))
            for agency in violation["agencies"]:
                result.outbox.append((self.topics.agency(agency), violation["plate"], eid, value))
        return result

    async def handle(self, batches: dict) -> None:
        fixes, offsets, dead = [], {}, []
        for tp, records in batches.items():
            if tp.partition not in self.owned:
                continue  # revoked while this batch was fetched: its new owner consumes it
            records = self._contiguous(tp.partition, records)
            if not records:
                continue
            for r in records:
                try:
                    fix = orjson.loads(r.value)
                    if not isinstance(fix, dict) or not {"plate", "ts", "lat", "lon", "speed_kmh"} <= fix.keys():
                        raise ValueError("not a normalised fix")
                    fixes.append(fix)
                except ValueError as exc:
                    dead.append((r.key, orjson.dumps({"input": r.value.decode(errors="replace"), "error": str(exc),
                                                      "source": "worker", "received_at": int(time.time() * 1000)})))
            offsets[(tp.topic, tp.partition)] = records[-1].offset + 1
        await self.publisher.publish(self.topics.deadletter, dead)
        outcome = process(fixes, self.states, self.index, self.ctx)
        if outcome.max_ts is not None:
            self.watermark = max(self.watermark or outcome.max_ts, outcome.max_ts)
        result = self._result(outcome)
        result.offsets = offsets
        await store.write_batch(self.pool, self.group, result)
        for (_, partition), offset in offsets.items():
            self._next[partition] = offset

    async def tick(self, idle: bool) -> None:
        """Offline timers: event time while there is a backlog, wall time once caught up."""
        now = self.watermark
        if idle:
            now = max(now or 0, int(time.time() * 1000))
        if now is None:
            return
        outcome = tick_all(self.states, now, self.ctx)
        if outcome.events:
            await store.write_batch(self.pool, self.group, self._result(outcome))

    async def relay(self) -> int:
        """Publish outbox rows, then mark them; a crash in between republishes the same event ids."""
        rows = await store.pending_outbox(self.pool)
        by_topic: dict[str, list] = {}
        for row in rows:
            by_topic.setdefault(row["topic"], []).append((row["key"].encode() if row["key"] else None, row["value"]))
        for topic, messages in by_topic.items():
            await self.publisher.publish(topic, messages)
        if rows:
            await store.mark_published(self.pool, [r["id"] for r in rows])
        return len(rows)

    async def run(self, stop: asyncio.Event) -> None:
        await self.refresh()
        self._consumer = group_consumer(self.settings.kafka_bootstrap, self.topics.fixes, self.group,
                                        on_assigned=self._assigned, on_revoked=self._revoked, max_poll_records=BATCH,
                                        fetch_max_wait_ms=FETCH_WAIT_MS)
        await self._consumer.start()
        last_refresh = time.monotonic()
        try:
            while not stop.is_set():
                batches = await self._consumer.getmany(timeout_ms=500, max_records=BATCH)
                try:
                    async with self._busy:
                        if self._stale:
                            await self._rewind()
                            continue
                        if batches:
                            await self.handle(batches)
                        await self.tick(idle=not batches)
                        await self.relay()
                        if time.monotonic() - last_refresh > REFRESH_S:
                            await self.refresh()
                            last_refresh = time.monotonic()
                except (OSError, asyncpg.PostgresError, asyncpg.InterfaceError, BrokerUnavailable) as exc:
                    # Nothing was committed: rewind to the stored offsets and try again.
                    log.warning("batch not committed, retrying from stored offsets: %r", exc)
                    self._stale = True
                    await asyncio.sleep(1)
        finally:
            await self._consumer.stop()

    async def _rewind(self) -> None:
        """Back to what PostGIS holds: stored offsets and states of the owned partitions.
        Until that succeeds nothing is processed (the database may be down)."""
        self._stale = True
        try:
            offsets = await store.stored_offsets(self.pool, self.group, self.topics.fixes)
            self.states = {s.plate: s for s in await store.stored_states(self.pool) if self._owns(s.plate)}
        except (OSError, asyncpg.PostgresError, asyncpg.InterfaceError) as exc:
            log.warning("database unavailable, processing paused: %r", exc)
            return
        for p in self.owned:
            if p in offsets:
                seek(self._consumer, self.topics.fixes, p, offsets[p])
            else:
                await seek_to_beginning(self._consumer, self.topics.fixes, p)
        self._next = {p: offsets.get(p) for p in self.owned}
        self._stale = False

    def _contiguous(self, partition: int, records: list) -> list:
        """The records that continue exactly where the committed ones end."""
        expected = self._next.get(partition)
        if expected is None:
            return records
        records = [r for r in records if r.offset >= expected]
        if records and records[0].offset > expected:
            seek(self._consumer, self.topics.fixes, partition, expected)  # fetched before a seek: read again
            return []
        return records
