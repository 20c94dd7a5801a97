"""`hazmat worker`: the member of the consumer group on hazmat.fixes.v1.

Per batch: decode, run the core, then in one PostGIS transaction write positions,
vehicle state, violations, the outbox and the consumed offsets (on the writer's thread,
while the next batch is processed); then relay the outbox.
A member that takes over a partition resumes from the offset stored with the results,
so a crash repeats at most the uncommitted batch, with the same violation ids.
"""
from __future__ import annotations

import asyncio
import gc
import time
from datetime import date
from functools import lru_cache

import asyncpg

from streams.batch import Outcome, process, tick_all
from streams.kafka import Publisher, partition_for
from streams.fix import MAX_AGE_MS
from streams.rules.engine import Context, Event
from streams.rules.state import VehicleState
from streams.rules.violations import CLOSED, OPENED, event_id, revise_violation, withdraw_violation
from streams.topics import Topics
from streams.vocabulary import FIX_RULE_KINDS
from tracker import outbox
from tracker.consuming import RETRYABLE, PartitionedLoop, chunks
from tracker.db import store
from tracker.db.writer import BackgroundWriter
from tracker.metrics import LATE_REPLAYS, LATE_UNREPLAYED, WITHDRAWALS
from tracker.settings import Settings

# A late fix is replayed from the newest checkpoint before it: at most this much event
# time of stored fixes is read again. Checkpoints are kept as long as the API accepts late
# fixes (MAX_AGE_MS) and pruned every PRUNE_EVERY_S.
CHECKPOINT_MS = 3600_000
PRUNE_EVERY_S = 600
# Withdrawn when a replay no longer yields them. Not gps_jump: the jumping fix is kept out
# of the stored track, so a replay cannot see it again.
WITHDRAWABLE = tuple(k for k in FIX_RULE_KINDS if k != "gps_jump")
# Every batch allocates ~20 000 fix dicts; at Python's default threshold (700) the cyclic
# collector runs ~30 times a batch and rescans the long-lived geofence index and states.
# Measured by bench.worker: ~15 % of the worker's CPU, gone at this threshold.
GC_THRESHOLD = (50_000, 20, 100)
# A poll (up to BATCH records; a backlog's hold ~25 000 of one partition) is processed in
# chunks of about this many: a chunk's fixes stay in the CPU's cache from decoding through
# the rules to the position rows. Offline, over bench.worker's stream: ~5.9 us a fix in
# polls of 40 000 at once, ~5.2-5.3 in chunks of 5 000-10 000 (bench/RESULTS.md). For the
# rules a chunk is a poll: a back-fill cut by a chunk's end replays in two steps, as it
# does when cut by a poll's.
CHUNK = 8_000


class Worker(PartitionedLoop):
    def __init__(self, settings: Settings, pool: asyncpg.Pool, publisher: Publisher) -> None:
        self.topics = Topics(settings.topic_prefix)
        super().__init__(settings, pool, self.topics.fixes, settings.worker_group)
        self.publisher = publisher
        self.writer = BackgroundWriter(settings.asyncpg_dsn)
        # Relays each batch's events right after its commit, on the writer's thread.
        self.relayer = outbox.Relayer(Publisher(settings.kafka_bootstrap), RETRYABLE)
        self.index = self.refs.index
        self.ctx = Context(self.index.geofences, self.refs.waybill_at, settings.rules)
        self.states: dict[str, VehicleState] = {}
        # Per partition, the newest event time handled: the offline timers' clock while the
        # partition has a backlog. The newest of all for every partition ran ahead of those
        # fetched less recently and timed their vehicles out (bench.worker's 75-minute
        # backlog of fixes every 10 s: ~2 000 offline violations that did not happen).
        self.clocks: dict[int, int] = {}
        self._pruned_at = time.monotonic()
        self._days_made: set[date] = set()  # positions partitions known to exist (writer's thread)
        gc.set_threshold(*GC_THRESHOLD)

    def _home(self, plate: str) -> int:
        return _home_partition(plate, self.partition_count)

    async def load_owned(self) -> None:
        self.states = {s.plate: s for s in await store.stored_states(self.pool) if self._home(s.plate) in self.owned}
        # Clocks restart with what is consumed next: kept, they would be ahead of the
        # fixes read again after a rewind and time their vehicles out.
        self.clocks = {}

    def _result(self, outcome: Outcome) -> store.BatchResult:
        result = store.BatchResult()
        result.positions = [  # times as epoch ms: the pool's timestamptz codec takes them
            (f["plate"], f["ts"], f["lat"], f["lon"], f["speed_kmh"], f["heading_deg"], f.get("alt_m"),
             f["h3_cell"], f["source"], f["received_at"])
            for f in outcome.positions]
        result.states = [store.state_row(self.states[p]) for p in outcome.touched]
        latest = {v["violation_id"]: v for _, v in outcome.events}
        result.violations = [store.violation_row(v) for v in latest.values()]
        result.outbox = outbox.rows(self.topics, outcome.events)
        return result

    async def handle(self, records: dict[int, list]) -> None:
        """Chunk by chunk, as if polled CHUNK records at a time, but in one transaction;
        except that a chunk with late fixes first submits the chunks before it, because its
        replay reads the stored track."""
        done: list[store.BatchResult] = []
        for chunk in chunks(records, CHUNK):
            fixes, dead = self.decode(chunk, "normalised_fix.schema.json", "a normalised fix")
            await self.publisher.publish(self.topics.deadletter, dead)
            late = self._late(fixes)
            if late and done:
                await self._submit(store.BatchResult.merged(done))
                done = []
            result = await self._handle_chunk(fixes, late)
            result.offsets = self.offsets_of(chunk)
            done.append(result)
        await self._submit(store.BatchResult.merged(done))

    async def _handle_chunk(self, fixes: list[dict], late: dict[str, int]) -> store.BatchResult:
        replayed, history = await self._replay(late) if late else ({}, [])
        outcome = process(history + fixes, self.states, self.index, self.ctx)
        if replayed:
            outcome.events = await self._reconciled(replayed, outcome)
        for plate in outcome.touched:
            last, home = self.states[plate].last_ts, self._home(plate)
            if last is not None:
                self.clocks[home] = max(last, self.clocks.get(home, last))
        result = self._result(outcome)
        result.checkpoints = self._checkpoints(outcome)
        result.replayed = replayed
        return result

    async def _submit(self, result: store.BatchResult) -> None:
        await self.submit(lambda: self.writer.run(lambda pool: self._commit(pool, result)))

    async def _commit(self, pool: asyncpg.Pool, result: store.BatchResult) -> None:
        """On the writer's thread: the batch's transaction; its events leave at once."""
        await store.write_batch(pool, self.group, result, self._days_made)
        if result.outbox:
            self.relayer.wake()

    async def run(self, stop: asyncio.Event) -> None:
        await self.writer.start()
        relaying = self.writer.run(self.relayer.run)
        try:
            await super().run(stop)
        finally:
            await self.writer.run(self._stop_relayer)
            await relaying
            await self.writer.close()

    async def _stop_relayer(self, pool: asyncpg.Pool) -> None:
        self.relayer.stop()

    def _late(self, fixes: list[dict]) -> dict[str, int]:
        """Per vehicle with fixes older than its newest (blind-area back-fill), the oldest."""
        oldest: dict[str, int] = {}
        for f in fixes:
            state = self.states.get(f["plate"])
            if state is not None and state.last_ts is not None and f["ts"] < state.last_ts:
                oldest[f["plate"]] = min(f["ts"], oldest.get(f["plate"], f["ts"]))
        return oldest

    async def _replay(self, oldest: dict[str, int]) -> tuple[dict[str, int], list[dict]]:
        """Go back to the newest checkpoint before each vehicle's oldest late fix and return,
        with the checkpoint's event time per vehicle, the stored fixes since it, so the rules
        see the whole track in event-time order again."""
        await self.settle()  # the stored track and checkpoints must include the batch before
        found = await store.checkpoints_before(self.pool, oldest)
        LATE_UNREPLAYED.inc(len(oldest) - len(found))  # older than every checkpoint kept: stored, not replayed
        LATE_REPLAYS.inc(len(found))
        for plate, (_, snapshot) in found.items():
            self.states[plate] = VehicleState.from_json(snapshot)
        replayed = {plate: at for plate, (at, _) in found.items()}
        return replayed, await store.history(self.pool, replayed) if replayed else []

    async def _reconciled(self, replayed: dict[str, int], outcome: Outcome) -> list[Event]:
        """A replay's events as consumers need them. It repeats events already sent: only
        new ones leave, plus revisions of violations whose stored record the whole track
        changed (ended later, or goes on after all) and withdrawals of violations the
        replayed vehicles had since their checkpoints that it no longer yields (say
        `offline` across a gap the back-fill filled)."""
        stored = {v["violation_id"]: v for v in await store.arisen_since(self.pool, replayed, WITHDRAWABLE)}
        sent = await store.emitted(self.pool, [event_id(v, t) for t, v in outcome.events])
        out, closed = [], {v["violation_id"] for t, v in outcome.events if t == CLOSED}
        for event_type, violation in outcome.events:
            known = stored.get(violation["violation_id"])
            if event_id(violation, event_type) not in sent:
                out.append((event_type, violation))
            elif event_type == CLOSED and known is not None and _changed(known, violation):
                out.append((CLOSED, revise_violation(violation)))
        decided = {v["violation_id"] for _, v in outcome.events}
        for plate in replayed:
            for violation in self.states[plate].open.values():
                decided.add(violation["violation_id"])
                known = stored.get(violation["violation_id"])
                if known is not None and known["status"] == "closed" and violation["violation_id"] not in closed:
                    out.append((OPENED, revise_violation(violation)))  # it goes on after all
        for violation_id, violation in stored.items():
            if violation_id not in decided:
                WITHDRAWALS.labels(violation["kind"]).inc()
                out.append((CLOSED, withdraw_violation(violation, "late fixes show it did not happen")))
        return out

    def _checkpoints(self, outcome: Outcome) -> list[tuple[str, int, bytes]]:
        """A checkpoint every CHECKPOINT_MS of a vehicle's event time, and the empty state
        before its first fix, so a late fix anywhere in the window has one before it."""
        out = []
        for plate in outcome.touched:
            state = self.states[plate]
            if state.checkpoint_ts is None:
                out.append((plate, 0, VehicleState(plate).snapshot()))
            if state.last_ts is not None and (state.checkpoint_ts is None
                                              or state.last_ts - state.checkpoint_ts >= CHECKPOINT_MS):
                state.checkpoint_ts = state.last_ts
                out.append((plate, state.last_ts, state.snapshot()))
        return out

    async def periodic(self, fed: set[int]) -> None:
        """Offline timers. A partition with a backlog runs on its own event time; one caught
        up, on the newest event time of all (a quiet partition's vehicles still time out
        while the others replay a day), or on wall time when the poll was empty: then the
        worker is live. When idle, a relay for rows no commit relayed (a failed relay, a
        crashed member)."""
        now = max(self.clocks.values(), default=None)
        if not fed:
            now = max(now or 0, int(time.time() * 1000))
        clocks = {p: now if self.caught_up(p) else self.clocks.get(p) for p in self.owned}
        outcome = tick_all(self.states, lambda plate: clocks.get(self._home(plate)), self.ctx)
        if outcome.events:
            await self._submit(self._result(outcome))
        if not fed:
            await self.settle()
            await outbox.relay(self.pool, self.publisher)
        if self.clocks and time.monotonic() - self._pruned_at > PRUNE_EVERY_S:
            await store.prune_checkpoints(self.pool, max(self.clocks.values()) - MAX_AGE_MS)
            self._pruned_at = time.monotonic()


@lru_cache(maxsize=65536)
def _home_partition(plate: str, partitions: int) -> int:
    """Cached: every poll's timers ask it for every vehicle (at 5 000 fixes/s polls are
    small and frequent, and uncached this was ~5 % of the main thread's samples)."""
    return partition_for(plate.encode(), range(partitions))


def _changed(stored: dict, replayed: dict) -> bool:
    """Does the replay's closed record say something else than the one stored and sent?"""
    def figures(violation: dict) -> tuple:
        details = {k: v for k, v in violation["details"].items() if k != "revised"}
        return violation["status"], violation["ended_at"], details
    return figures(stored) != figures(replayed)
