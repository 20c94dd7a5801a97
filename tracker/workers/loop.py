"""A consumer-group member whose offsets live in PostGIS beside the results they produced.

The loop is given a `Handler` that does the member's work (decode, decide, write) and
calls nothing else of it; the handler sees the member only through `Partitions` (what it
owns, the offsets to commit, the transactions in flight). The loop owns what makes that
safe: seeking to stored offsets on assignment, pausing and rewinding while the database
is unavailable, and dropping records fetched before a seek. A rebalance waits for the
batch in hand to commit (the listener runs in aiokafka's task and takes the same lock).

A handler may `submit` a batch's transaction instead of awaiting it, so the next batch is
fetched and processed while it commits. Transactions stay in order, one in flight; when
one fails, the next is never started and the member rewinds to the stored offsets, so
memory that ran ahead is rebuilt from PostGIS. Whatever reads what the worker wrote (and
every rebalance) first `settle`s.

No message may stop the member. An outage (the database or the broker unreachable) is
waited out. Any other failure is the data's until shown otherwise: the member goes back
to the stored offsets and takes the same records again in smaller and smaller pieces,
each committed before the next (the `Isolation`); a single message that still fails
after `attempts` tries is dead-lettered with the error, its offset committed, and the
pieces grow again behind it.
"""
from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable, Iterator

import asyncpg
import orjson

from schemas import SchemaError, explain, list_validator, validator
from streams.kafka import group_consumer, highwater, seek, seek_to_beginning
from streams.times import now_ms
from streams.topics import Topics
from tracker.db import offsets as stored
from tracker.metrics import WORKER_BATCH_SECONDS, WORKER_DEADLETTERED, WORKER_FAILURES, WORKER_RECORDS, WORKER_REWINDS
from tracker.outages import is_outage
from tracker.settings import Settings
from tracker.workers.references import References

log = logging.getLogger(__name__)
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


class Isolation:
    """Finding the message that makes batches fail: after a failure the member takes one
    partition at a time, at most `size` records, halving on each failure and doubling on
    each success; `failures` counts the tries of a single message."""

    def __init__(self, size: int) -> None:
        self.size, self.failures = size, 0

    def cut(self, records: dict[int, list]) -> dict[int, list]:
        partition = min(records)
        return {partition: records[partition][:self.size]}

    def failed(self) -> None:
        if self.size > 1:
            self.size //= 2
        else:
            self.failures += 1

    def succeeded(self, batch: int) -> bool:
        """Grow again; True once back at full size (the isolation is over)."""
        self.size, self.failures = self.size * 2, 0
        return self.size >= batch


def dead_letter(record, error: str, source: str, topic: str, partition: int) -> tuple[bytes | None, bytes]:
    """The dead-letter message of a consumed record the member gave up on."""
    return record.key, orjson.dumps({
        "input": record.value.decode(errors="replace") if record.value is not None else None,
        "error": error, "source": source, "received_at": now_ms(),
        "origin": {"topic": topic, "partition": partition, "offset": record.offset}})


def decode(records: dict[int, list], schema: str, what: str, group: str, topic: str) -> tuple[list[dict], list]:
    """The messages that match the topic's schema, and dead-letter messages for the rest: a
    foreign producer's garbage is explained, never dropped, and never reaches (and stops)
    the rules. A batch is parsed and checked whole first; only one with a bad message is
    gone through message by message."""
    messages = [r for rs in records.values() for r in rs]
    try:
        items = [orjson.loads(r.value) for r in messages]
    except (ValueError, TypeError):
        items = None
    if items is not None and list_validator(schema).is_valid(items):
        return items, []
    items, dead, valid = [], [], validator(schema)
    for partition, rs in records.items():
        for r in rs:
            try:
                item = orjson.loads(r.value)
                if not valid.is_valid(item):
                    valid.validate(item)
                items.append(item)
            except (ValueError, TypeError) as exc:  # orjson's, the validator's (a ValueError), a null value
                reason = explain(exc)[1] if isinstance(exc, SchemaError) else str(exc)
                dead.append(dead_letter(r, f"not {what}: {reason}", group, topic, partition))
    return items, dead


class Partitions:
    """What a handler knows of its member and may ask of it: the partitions it owns (of
    `count`), whether one is caught up, the offsets to commit with a batch, and the
    transactions in flight (`submit`, `settle`). The loop keeps it current; handlers only
    read it and submit through it."""

    def __init__(self, topic: str, count: int) -> None:
        self.topic, self.count = topic, count
        self.owned: set[int] = set()
        # Per owned partition, the offset the next batch must start at (None: from the start).
        self.next: dict[int, int | None] = {}
        self.consumer = None
        self.one_at_a_time = False  # while a poison message is isolated
        self._writing: asyncio.Future | None = None  # the submitted transaction, until known committed

    def offsets_of(self, records: dict[int, list]) -> dict[tuple[str, int], int]:
        return {(self.topic, p): rs[-1].offset + 1 for p, rs in records.items()}

    def caught_up(self, partition: int) -> bool:
        """Is everything the broker held at the last fetch of this partition handled?
        (The end offset is a hint: the embedded broker under-reports it.)"""
        end = highwater(self.consumer, self.topic, partition)
        return end is not None and (self.next.get(partition) or 0) >= end

    async def submit(self, start: Callable[[], asyncio.Future]) -> None:
        """Start a transaction (`start()` begins it elsewhere and returns its future) once
        the one before it has committed: never two at once, never one after a failure.
        While a poison message is being isolated, each waits for its commit, so that a
        failure belongs to the records in hand."""
        await self.settle()
        self._writing = start()
        if self.one_at_a_time:
            await self.settle()

    async def settle(self) -> None:
        """Wait for the submitted transaction; its failure is raised here."""
        if self._writing is not None:
            writing, self._writing = self._writing, None
            await writing


class Handler:
    """What a member does with its topic's records; the loop calls only these methods.
    `load` reloads whatever in-memory state belongs to the owned partitions; `handle`
    processes contiguous records per partition and commits them with
    `partitions.offsets_of(records)` (awaited, or submitted to run while the next batch is
    processed); `periodic` is the work after each poll (timers, relays), inside the same
    lock, `fed` holding the partitions the poll brought records for (none: idle); `open`
    and `close` bracket the member's run. The defaults do nothing."""

    def __init__(self, settings: Settings, pool: asyncpg.Pool, publisher, topics: Topics, topic: str, group: str,
                 refs: References | None = None) -> None:
        self.settings, self.pool, self.publisher, self.refs = settings, pool, publisher, refs
        self.topics, self.topic, self.group, self.tuning = topics, topic, group, settings.worker

    async def open(self) -> None:
        """Before the member joins its group."""

    async def close(self) -> None:
        """After it has left and its last transaction has settled."""

    async def load(self, partitions: Partitions) -> None:
        """Reload the state of `partitions.owned` (after an assignment or a failure)."""

    async def handle(self, records: dict[int, list], partitions: Partitions) -> None:
        raise NotImplementedError

    async def periodic(self, fed: set[int], partitions: Partitions) -> None:
        """After each poll."""


class PartitionedLoop:
    """A member of `handler.group` on `handler.topic`, given the handler that does its work.
    `refs`: the process's geofences and waybills (shared by its members; none for a
    member that judges nothing), fresh before every batch."""

    def __init__(self, settings: Settings, pool: asyncpg.Pool, publisher, handler: Handler,
                 refs: References | None = None) -> None:
        self.settings, self.pool, self.handler = settings, pool, handler
        self.topic, self.group = handler.topic, handler.group
        self.tuning = settings.worker
        self.publisher = publisher
        self.deadletter_topic = Topics(settings.topic_prefix).deadletter
        self.refs = refs
        self.partitions = Partitions(self.topic, settings.topic_partitions)
        self._busy = asyncio.Lock()
        self._stale = False  # in-memory state or positions may be ahead of PostGIS
        self._isolation: Isolation | None = None
        self._failure: BaseException | None = None  # the last data failure, for the dead letter

    async def _settle_quietly(self) -> bool:
        try:
            await self.partitions.settle()
            return True
        except Exception as exc:  # noqa: BLE001 - the rewind that follows starts over from PostGIS
            log.warning("%s: batch not committed, back to the stored offsets: %r", self.group, exc)
            self._stale = True
            return False

    # -- the loop -----------------------------------------------------------------------------
    async def _assigned(self, partitions: list[int]) -> None:
        async with self._busy:
            own = self.partitions
            own.owned = set(partitions)
            own.count = len(own.consumer.partitions_for_topic(self.topic) or partitions)
            await self._rewind()
            log.info("%s owns partitions %s of %s", self.group, partitions, self.topic)

    async def _revoked(self, partitions: list[int]) -> None:
        async with self._busy:
            self.partitions.owned -= set(partitions)
            if await self._settle_quietly():  # else the rewind that follows reloads
                await self.handler.load(self.partitions)

    async def _rewind(self) -> None:
        """Back to what PostGIS holds; until that succeeds nothing is processed."""
        await self._settle_quietly()
        self._stale = True
        WORKER_REWINDS.labels(self.group).inc()
        try:
            offsets = await stored.stored_offsets(self.pool, self.group, self.topic)
            await self.handler.load(self.partitions)
        except Exception as exc:  # noqa: BLE001 - retried at the next poll
            log.warning("%s: cannot reload from the database, processing paused: %r", self.group, exc)
            return
        own = self.partitions
        for p in own.owned & offsets.keys():
            seek(own.consumer, self.topic, p, offsets[p])
        await seek_to_beginning(own.consumer, self.topic, own.owned - offsets.keys())
        own.next = {p: offsets.get(p) for p in own.owned}
        self._stale = False

    def _contiguous(self, partition: int, records: list) -> list:
        """The records that continue exactly where the committed ones end."""
        expected = self.partitions.next.get(partition)
        if expected is None:
            return records
        records = [r for r in records if r.offset >= expected]
        if records and records[0].offset > expected:
            seek(self.partitions.consumer, self.topic, partition, expected)  # fetched before a seek: read again
            return []
        return records

    async def _step(self, batches: dict) -> None:
        if self._stale:
            await self._rewind()
            return
        records = {}
        for tp, rs in batches.items():
            if tp.partition in self.partitions.owned:  # else revoked meanwhile: its new owner consumes it
                rs = self._contiguous(tp.partition, rs)
                if rs:
                    records[tp.partition] = rs
        if records and self._isolation is not None:
            records = self._isolation.cut(records)
            if self._isolation.size == 1 and self._isolation.failures >= self.tuning.attempts:
                await self._give_up(records)
                return
        if self.refs is not None:  # judged with references the contract allows (timers ask for waybills too)
            await self.refs.ensure_fresh(self.pool)
        if records:
            with WORKER_BATCH_SECONDS.labels(self.group).time():
                await self.handler.handle(records, self.partitions)
            WORKER_RECORDS.labels(self.group).inc(sum(len(rs) for rs in records.values()))
            for p, rs in records.items():
                self.partitions.next[p] = rs[-1].offset + 1
            if self._isolation is not None and self._isolation.succeeded(self.tuning.batch):
                log.info("%s: past the failing records, back to whole batches", self.group)
                self._isolate(None)
        await self.handler.periodic({tp.partition for tp in batches}, self.partitions)

    async def _give_up(self, records: dict[int, list]) -> None:
        """Dead-letter the one record that failed every try and commit past it."""
        (partition, (record,)), = records.items()
        error = f"failed {self.tuning.attempts} times: {self._failure!r}"[:2000]
        await self.publisher.publish(self.deadletter_topic,
                                     [dead_letter(record, error, self.group, self.topic, partition)])
        async with self.pool.acquire() as conn, conn.transaction():
            await stored.save_offsets(conn, self.group, {(self.topic, partition): record.offset + 1})
        self.partitions.next[partition] = record.offset + 1
        WORKER_DEADLETTERED.labels(self.group).inc()
        log.error("%s: %s partition %s offset %s dead-lettered: %s", self.group, self.topic, partition,
                  record.offset, error)
        self._isolation.succeeded(self.tuning.batch)

    async def _failed(self, exc: BaseException) -> None:
        """Nothing of the batch is committed: back to the stored offsets. An outage is
        waited out; any other failure narrows the next tries towards its message."""
        self._stale = True
        if is_outage(exc):
            WORKER_FAILURES.labels(self.group, "outage").inc()
            log.warning("%s: batch not committed, retrying from the stored offsets: %r", self.group, exc)
            await asyncio.sleep(1)
            return
        WORKER_FAILURES.labels(self.group, "data").inc()
        log.error("%s: batch failed, isolating the records that fail it", self.group, exc_info=exc)
        self._failure = exc
        if self._isolation is None:
            self._isolate(Isolation(self.tuning.chunk))
        self._isolation.failed()

    def _isolate(self, isolation: Isolation | None) -> None:
        self._isolation = isolation
        self.partitions.one_at_a_time = isolation is not None

    async def run(self, stop: asyncio.Event) -> None:
        """Joins the group at once: the process's references load meanwhile (References.
        preload; the first batch waits for them), so a start is not as long as both."""
        consumer = self.partitions.consumer = group_consumer(
            self.settings.kafka_bootstrap, self.topic, self.group, on_assigned=self._assigned,
            on_revoked=self._revoked, max_poll_records=self.tuning.batch, fetch_max_wait_ms=self.tuning.fetch_wait_ms,
            max_partition_fetch_bytes=self.tuning.fetch_partition_bytes,
            session_timeout_ms=self.tuning.session_timeout_ms, heartbeat_interval_ms=self.tuning.heartbeat_ms)
        await self.handler.open()
        try:
            await consumer.start()
            try:
                while not stop.is_set():
                    batches = await consumer.getmany(timeout_ms=500, max_records=self.tuning.batch)
                    try:
                        async with self._busy:
                            await self._step(batches)
                    except Exception as exc:  # noqa: BLE001 - no message may stop the member
                        await self._failed(exc)
            finally:
                await self._settle_quietly()
                await consumer.stop()
        finally:
            await self.handler.close()
