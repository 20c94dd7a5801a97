"""A consumer-group member whose offsets live in PostGIS beside the results they produced.

The subclass handles contiguous batches and writes their offsets in its own transaction;
this class owns what makes that safe: seeking to stored offsets on assignment, pausing
and rewinding while the database is unavailable, and dropping records fetched before a
seek. A rebalance waits for the batch in hand to commit (the listener runs in aiokafka's
task and takes the same lock).

A subclass may `submit` a batch's transaction instead of awaiting it, so the next batch is
fetched and processed while it commits. Transactions stay in order, one in flight; when
one fails, the next is never started and the member rewinds to the stored offsets, so
memory that ran ahead is rebuilt from PostGIS. Whatever reads what the worker wrote (and
every rebalance) first `settle`s.
"""
from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Callable, Iterator

import asyncpg
import orjson

from schemas import SchemaError, explain, list_validator, validator
from streams.kafka import BrokerUnavailable, group_consumer, highwater, seek, seek_to_beginning
from tracker.db import store
from tracker.metrics import WORKER_BATCH_SECONDS, WORKER_RECORDS, WORKER_REWINDS
from tracker.references import REFRESH_S, References
from tracker.settings import Settings

log = logging.getLogger(__name__)
RETRYABLE = (OSError, asyncpg.PostgresError, asyncpg.InterfaceError, BrokerUnavailable)
# Larger batches spread the per-batch work (a snapshot and an upsert of every vehicle the
# batch touches, the offsets) over more records. At 20 000 the main thread waited ~9 % of
# a backlog run on the previous batch's transaction, at this size ~0; end to end the gain
# was within the machine's noise (bench/RESULTS.md, session 6). Live, polls hold what
# arrived within FETCH_WAIT_MS, far fewer.
BATCH = 40_000
# Per partition and fetch: the default 1 MB (~4 300 fixes) made polls of 8 partitions
# average ~14 000 records, however large BATCH.
FETCH_PARTITION_BYTES = 4 << 20
# Kafka brokers hold a fetch up to this long waiting for data; the default 500 ms would
# be most of the latency from fix to violation event.
FETCH_WAIT_MS = 50


def chunks(records: dict[int, list], size: int) -> Iterator[dict[int, list]]:
    """A poll's records (per partition, in offset order) as consecutive polls of at most
    `size` records: each partition's records in contiguous slices, in order, and slices of
    several partitions together while they fit."""
    chunk: dict[int, list] = {}
    held = 0
    for partition, rs in records.items():
        for start in range(0, len(rs), size):
            piece = rs[start:start + size]
            if chunk and held + len(piece) > size:
                yield chunk
                chunk, held = {}, 0
            chunk[partition] = piece
            held += len(piece)
    if chunk:
        yield chunk


class PartitionedLoop:
    def __init__(self, settings: Settings, pool: asyncpg.Pool, topic: str, group: str) -> None:
        self.settings, self.pool, self.topic, self.group = settings, pool, topic, group
        self.refs = References()
        self.owned: set[int] = set()
        self.partition_count = settings.topic_partitions
        self._consumer = None
        self._busy = asyncio.Lock()
        self._stale = False  # in-memory state or positions may be ahead of PostGIS
        # Per owned partition, the offset the next batch must start at (None: from the start).
        self._next: dict[int, int | None] = {}
        self._writing: asyncio.Future | None = None  # the submitted transaction, until known committed

    # -- for subclasses ---------------------------------------------------------------------
    async def load_owned(self) -> None:
        """Reload whatever in-memory state belongs to the owned partitions."""

    async def handle(self, records: dict[int, list]) -> None:
        """Process contiguous records per partition and commit them with `offsets_of(records)`."""
        raise NotImplementedError

    async def periodic(self, fed: set[int]) -> None:
        """Work after each poll (timers, relays), inside the same lock; `fed` holds the
        partitions the poll brought records for (none: the member is idle)."""

    def decode(self, records: dict[int, list], schema: str, what: str) -> tuple[list[dict], list]:
        """The messages that match the topic's schema, and dead-letter messages for the rest:
        a foreign producer's garbage is explained, never dropped, and never reaches (and
        stops) the rules. A batch is parsed and checked whole first; only one with a bad
        message is gone through message by message."""
        messages = [r for rs in records.values() for r in rs]
        try:
            items = [orjson.loads(r.value) for r in messages]
        except ValueError:
            items = None
        if items is not None and list_validator(schema).is_valid(items):
            return items, []
        items, dead, valid = [], [], validator(schema)
        for r in messages:
            try:
                item = orjson.loads(r.value)
                if not valid.is_valid(item):
                    valid.validate(item)
                items.append(item)
            except ValueError as exc:  # what orjson and the validator raise are ValueErrors
                reason = explain(exc)[1] if isinstance(exc, SchemaError) else str(exc)
                dead.append((r.key, orjson.dumps({
                    "input": r.value.decode(errors="replace"), "error": f"not {what}: {reason}",
                    "source": self.group, "received_at": int(time.time() * 1000)})))
        return items, dead

    async def submit(self, start: Callable[[], asyncio.Future]) -> None:
        """Start a transaction (`start()` begins it elsewhere and returns its future) once
        the one before it has committed: never two at once, never one after a failure."""
        await self.settle()
        self._writing = start()

    async def settle(self) -> None:
        """Wait for the submitted transaction; its failure is raised here."""
        if self._writing is not None:
            writing, self._writing = self._writing, None
            await writing

    async def _settle_quietly(self) -> bool:
        try:
            await self.settle()
            return True
        except RETRYABLE as exc:
            log.warning("%s: batch not committed, back to the stored offsets: %r", self.group, exc)
            self._stale = True
            return False

    def caught_up(self, partition: int) -> bool:
        """Is everything the broker held at the last fetch of this partition handled?"""
        end = highwater(self._consumer, self.topic, partition)
        return end is not None and (self._next.get(partition) or 0) >= end

    def offsets_of(self, records: dict[int, list]) -> dict[tuple[str, int], int]:
        return {(self.topic, p): rs[-1].offset + 1 for p, rs in records.items()}

    # -- the loop -----------------------------------------------------------------------------
    async def _assigned(self, partitions: list[int]) -> None:
        async with self._busy:
            self.owned = set(partitions)
            self.partition_count = len(self._consumer.partitions_for_topic(self.topic) or partitions)
            await self._rewind()
            log.info("%s owns partitions %s of %s", self.group, partitions, self.topic)

    async def _revoked(self, partitions: list[int]) -> None:
        async with self._busy:
            self.owned -= set(partitions)
            if await self._settle_quietly():  # else the rewind that follows reloads
                await self.load_owned()

    async def _rewind(self) -> None:
        """Back to what PostGIS holds; until that succeeds nothing is processed."""
        await self._settle_quietly()
        self._stale = True
        WORKER_REWINDS.labels(self.group).inc()
        try:
            offsets = await store.stored_offsets(self.pool, self.group, self.topic)
            await self.load_owned()
        except RETRYABLE as exc:
            log.warning("%s: database unavailable, processing paused: %r", self.group, exc)
            return
        for p in self.owned:
            if p in offsets:
                seek(self._consumer, self.topic, p, offsets[p])
            else:
                await seek_to_beginning(self._consumer, self.topic, p)
        self._next = {p: offsets.get(p) for p in self.owned}
        self._stale = False

    def _contiguous(self, partition: int, records: list) -> list:
        """The records that continue exactly where the committed ones end."""
        expected = self._next.get(partition)
        if expected is None:
            return records
        records = [r for r in records if r.offset >= expected]
        if records and records[0].offset > expected:
            seek(self._consumer, self.topic, partition, expected)  # fetched before a seek: read again
            return []
        return records

    async def _step(self, batches: dict, refreshed_at: float) -> float:
        if self._stale:
            await self._rewind()
            return refreshed_at
        records = {}
        for tp, rs in batches.items():
            if tp.partition in self.owned:  # else revoked meanwhile: its new owner consumes it
                rs = self._contiguous(tp.partition, rs)
                if rs:
                    records[tp.partition] = rs
        if records:
            with WORKER_BATCH_SECONDS.labels(self.group).time():
                await self.handle(records)
            WORKER_RECORDS.labels(self.group).inc(sum(len(rs) for rs in records.values()))
            for p, rs in records.items():
                self._next[p] = rs[-1].offset + 1
        await self.periodic({tp.partition for tp in batches})
        if time.monotonic() - refreshed_at > REFRESH_S:
            await self.refs.refresh(self.pool)
            refreshed_at = time.monotonic()
        return refreshed_at

    async def run(self, stop: asyncio.Event) -> None:
        await self.refs.refresh(self.pool)
        self._consumer = group_consumer(self.settings.kafka_bootstrap, self.topic, self.group,
                                        on_assigned=self._assigned, on_revoked=self._revoked,
                                        max_poll_records=BATCH, fetch_max_wait_ms=FETCH_WAIT_MS,
                                        max_partition_fetch_bytes=FETCH_PARTITION_BYTES)
        await self._consumer.start()
        refreshed_at = time.monotonic()
        try:
            while not stop.is_set():
                batches = await self._consumer.getmany(timeout_ms=500, max_records=BATCH)
                try:
                    async with self._busy:
                        refreshed_at = await self._step(batches, refreshed_at)
                except RETRYABLE as exc:
                    log.warning("%s: batch not committed, retrying from stored offsets: %r", self.group, exc)
                    self._stale = True
                    await asyncio.sleep(1)
        finally:
            await self._settle_quietly()
            await self._consumer.stop()
