"""`hazmat worker`: the member of the consumer group on hazmat.fixes.v1.

Per batch: decode, run the core, then in one PostGIS transaction write positions,
vehicle state, violations, the outbox and the consumed offsets (on the writer's thread,
while the next batch is processed); then relay the outbox. A member that takes over a
partition resumes from the offset stored with the results, so a crash repeats at most
the uncommitted batch, with the same violation ids. The decisions are the pure core's
(streams.batch, streams.rules.replay); this class moves data between it and the world.
"""
from __future__ import annotations

import time
from datetime import date
from functools import lru_cache

import asyncpg

from streams.batch import Outcome, process, tick_all
from streams.clock import PartitionClock, advance_all
from streams.kafka import Publisher, partition_for
from streams.rules.engine import Context
from streams.rules.replay import WITHDRAWABLE, due_checkpoints, late_fixes, reconcile
from streams.rules.state import VehicleState
from streams.rules.violations import event_id
from streams.times import now_ms
from streams.topics import Topics
from tracker.db import clocks as stored_clocks
from tracker.db import outbox as stored_outbox
from tracker.db import replays
from tracker.db.batches import BatchResult, write_batch
from tracker.db.states import state_row, stored_states
from tracker.db.violations import violation_row
from tracker.metrics import LATE_REPLAYS, LATE_UNREPLAYED, WITHDRAWALS
from tracker.outages import is_outage
from tracker.settings import Settings
from tracker.workers import outbox
from tracker.workers.loop import Handler, Partitions, chunks, decode
from tracker.workers.references import References
from tracker.workers.writer import BackgroundWriter

QUIET_SAVE_EVERY_S = 5  # quiet partitions' clocks are stored this often, for the window checks


class Worker(Handler):
    """The fix member's handler (tracker.workers.loop runs it)."""

    def __init__(self, settings: Settings, pool: asyncpg.Pool, publisher: Publisher, refs: References) -> None:
        topics = Topics(settings.topic_prefix)
        super().__init__(settings, pool, publisher, topics, topics.fixes, settings.worker_group, refs)
        self.partition_count = settings.topic_partitions
        self.writer = BackgroundWriter(settings.asyncpg_dsn)
        self._relaying = None  # the relayer's run on the writer's thread, from open() to close()
        # Relays each batch's events right after its commit, on the writer's thread; not
        # compressed: few messages, every millisecond of them an agency's wait.
        self.relayer = outbox.Relayer(Publisher(settings.kafka_bootstrap, compression="none"), is_outage)
        self.index = self.refs.index
        self.ctx = Context(self.index, self.refs.waybill_at, settings.rules)
        self.states: dict[str, VehicleState] = {}
        # Per partition, its own event time (streams.clock): the offline timers' clock, never
        # another partition's (one clock for all ran ahead of the partitions fetched less
        # recently and timed their vehicles out).
        self.clocks: dict[int, PartitionClock] = {}
        self._fed_at: dict[int, float] = {}  # monotonic time each owned partition last brought records
        self._quiet_saved_at = 0.0
        self._days_made: set[date] = set()  # positions partitions known to exist (writer's thread)

    def _home(self, plate: str) -> int:
        return _home_partition(plate, self.partition_count)

    async def load(self, partitions: Partitions) -> None:
        owned, self.partition_count = partitions.owned, partitions.count
        self.states = {s.plate: s for s in await stored_states(self.pool) if self._home(s.plate) in owned}
        # The clocks stored with the offsets: what is consumed next comes after them.
        stored = await stored_clocks.stored_clocks(self.pool, self.group, self.topic)
        self.clocks = {p: clock for p, clock in stored.items() if p in owned}
        started = time.monotonic()
        self._fed_at = {p: started for p in owned}

    def _result(self, outcome: Outcome) -> BatchResult:
        result = BatchResult()
        result.positions = [  # times as epoch ms: the pool's timestamptz codec takes them
            (f["plate"], f["ts"], f["lat"], f["lon"], f["speed_kmh"], f["heading_deg"], f.get("alt_m"),
             f["h3_cell"], f["source"], f["received_at"])
            for f in outcome.positions]
        result.touched = set(outcome.touched)
        latest = {v.violation_id: v for _, v in outcome.events}
        for violation in latest.values():
            if violation.details.get("withdrawn"):  # a false alarm the agencies were told of
                WITHDRAWALS.labels(violation.kind).inc()
        result.violations = [violation_row(v) for v in latest.values()]
        result.outbox = outbox.rows(self.topics, outcome.events)
        return result

    async def handle(self, records: dict[int, list], partitions: Partitions) -> None:
        """Chunk by chunk, as if polled `chunk` records at a time, but in one transaction;
        except that a chunk with late fixes first submits the chunks before it, because its
        replay reads the stored track."""
        done: list[BatchResult] = []
        for chunk in chunks(records, self.tuning.chunk):
            fixes, dead = decode(chunk, "normalised_fix.schema.json", "a normalised fix", self.group, self.topic)
            await self.publisher.publish(self.topics.deadletter, dead)
            late = late_fixes(fixes, self.states)
            if late and done:
                await self._submit(BatchResult.merged(done), partitions)
                done = []
            result = await self._handle_chunk(fixes, late, partitions)
            result.offsets = partitions.offsets_of(chunk)
            result.clocks = {(self.topic, p): (c.event_ms, c.received_ms, self.partition_count)
                             for p in chunk if (c := self.clocks.get(p)) is not None and c.event_ms is not None}
            done.append(result)
        await self._submit(BatchResult.merged(done), partitions)

    async def _handle_chunk(self, fixes: list[dict], late: dict[str, int], partitions: Partitions) -> BatchResult:
        replayed, history = await self._replay(late, partitions) if late else ({}, [])
        outcome = process(history + fixes, self.states, self.ctx)
        if replayed:
            stored = {v.violation_id: v for v in await replays.arisen_since(self.pool, replayed, WITHDRAWABLE)}
            sent = await stored_outbox.emitted(self.pool, [event_id(v, t) for t, v in outcome.events])
            outcome.events, _ = reconcile(outcome.events, replayed, self.states, stored, sent)
        advance_all(self.clocks, fixes, self._home)
        result = self._result(outcome)
        result.checkpoints = due_checkpoints(outcome.touched, self.states, self.tuning.checkpoint_every_ms)
        result.replayed = replayed
        return result

    async def _submit(self, result: BatchResult, partitions: Partitions) -> None:
        """The states are taken now, once per submitted batch (not per chunk: a vehicle in
        every chunk of a 40 000-record poll was serialised five times, 15 % of the
        worker's time), before the next batch changes them."""
        result.states = [state_row(self.states[p]) for p in result.touched]
        await partitions.submit(lambda: self.writer.run(lambda pool: self._commit(pool, result)))

    async def _commit(self, pool: asyncpg.Pool, result: BatchResult) -> None:
        """On the writer's thread: the batch's transaction; its events leave at once."""
        await write_batch(pool, self.group, result, self._days_made)
        if result.outbox:
            self.relayer.wake()

    async def open(self) -> None:
        await self.writer.start()
        self._relaying = self.writer.run(self.relayer.run)

    async def close(self) -> None:
        await self.writer.run(self._stop_relayer)
        await self._relaying
        await self.writer.close()

    async def _stop_relayer(self, pool: asyncpg.Pool) -> None:
        self.relayer.stop()

    async def _replay(self, oldest: dict[str, int], partitions: Partitions) -> tuple[dict[str, int], list[dict]]:
        """Go back to the newest checkpoint before each vehicle's oldest late fix and return,
        with the checkpoint's event time per vehicle, the stored fixes since it, so the rules
        see the whole track in event-time order again."""
        await partitions.settle()  # the stored track and checkpoints must include the batch before
        found = await replays.checkpoints_before(self.pool, oldest)
        LATE_UNREPLAYED.inc(len(oldest) - len(found))  # older than every checkpoint kept: stored, not replayed
        LATE_REPLAYS.inc(len(found))
        for plate, (_, snapshot) in found.items():
            self.states[plate] = VehicleState.from_json(snapshot)
        replayed = {plate: at for plate, (at, _) in found.items()}
        return replayed, await replays.history(self.pool, replayed) if replayed else []

    async def periodic(self, fed: set[int], partitions: Partitions) -> None:
        """Offline timers, each vehicle's on its own partition's clock: event time while
        records come, going on at the wall clock's pace once the partition is quiet
        (streams.clock). When idle, a relay for rows no commit relayed (a failed relay, a
        crashed member)."""
        now, wall = time.monotonic(), now_ms()
        for p in fed:
            self._fed_at[p] = now
        quiet = {p for p in partitions.owned
                 if now - self._fed_at.get(p, now) >= self.tuning.quiet_s and partitions.caught_up(p)}
        times = {p: self.clocks.get(p, PartitionClock()).now(wall, p in quiet) for p in partitions.owned}
        outcome = tick_all(self.states, lambda plate: times.get(self._home(plate)), self.ctx)
        if outcome.events:
            await self._submit(self._result(outcome), partitions)
        if quiet and now - self._quiet_saved_at >= QUIET_SAVE_EVERY_S:
            await partitions.settle()  # after the batch that may have stored these partitions' event times
            await stored_clocks.save_quiet(self.pool, self.group, self.topic, {p: times[p] for p in quiet})
            self._quiet_saved_at = now
        if not fed:
            await partitions.settle()
            await outbox.relay(self.pool, self.publisher)


@lru_cache(maxsize=65536)
def _home_partition(plate: str, partitions: int) -> int:
    """Cached: every poll's timers ask it for every vehicle."""
    return partition_for(plate.encode(), range(partitions))
