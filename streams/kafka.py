"""The only module that talks to the Kafka client (aiokafka), so the client stays replaceable.

Why aiokafka and not kafka-python: kafka-python blocks the event loop the API shares
and was several times slower here (docs/architecture.md, bench/RESULTS.md).
"""
from __future__ import annotations

import asyncio
import logging
import random
from collections import defaultdict
from collections.abc import Iterable, Sequence
from functools import lru_cache

from aiokafka import AIOKafkaConsumer, AIOKafkaProducer, ConsumerRebalanceListener, TopicPartition
from aiokafka.admin import AIOKafkaAdminClient, NewTopic
from aiokafka.errors import KafkaError, TopicAlreadyExistsError
from aiokafka.partitioner import murmur2

log = logging.getLogger(__name__)


class BrokerUnavailable(RuntimeError):
    """The broker did not acknowledge in time; nothing may be reported as accepted."""


Message = tuple[bytes | None, bytes]  # (key, value)


async def ensure_topics(bootstrap: str, topics: Iterable[str], partitions: int,
                        configs: dict[str, str] | None = None) -> list[str]:
    """Create missing topics with `partitions` partitions and the topic `configs` (e.g.
    streams.topics.retention_configs); returns those it created. Existing topics keep theirs."""
    admin = AIOKafkaAdminClient(bootstrap_servers=bootstrap, request_timeout_ms=10_000)
    await admin.start()
    try:
        existing = set(await admin.list_topics())
        missing = [t for t in topics if t not in existing]
        if missing:
            try:
                await admin.create_topics(
                    [NewTopic(t, num_partitions=partitions, replication_factor=1, topic_configs=configs or {})
                     for t in missing]
                )
            except TopicAlreadyExistsError:
                pass  # another process created them first: that is what we wanted
        return missing
    finally:
        await admin.close()


@lru_cache(maxsize=65536)
def _hash(key: bytes) -> int:
    """Kafka's own key hash (murmur2), cached: a fleet has a few thousand plates."""
    return murmur2(key) & 0x7FFFFFFF


def partition_for(key: bytes | None, partitions: Sequence[int]) -> int:
    """The partition Kafka's default partitioner picks, so every producer agrees on a plate's home."""
    if key is None:
        return random.choice(partitions)
    return partitions[_hash(key) % len(partitions)]


class Publisher:
    """A producer with acks=all whose `publish` returns only once every message is acknowledged."""

    def __init__(self, bootstrap: str, *, timeout_s: float = 10.0, compression: str = "gzip") -> None:
        """`compression`: "gzip" or "none" (HAZMAT_KAFKA_COMPRESSION)."""
        self._bootstrap = bootstrap
        self._timeout_s = timeout_s
        self._compression = None if compression == "none" else compression
        self._producer: AIOKafkaProducer | None = None
        self._lock = asyncio.Lock()
        self._locks: dict[tuple[str, int], asyncio.Lock] = defaultdict(asyncio.Lock)

    async def _ensure_started(self) -> AIOKafkaProducer:
        """Start lazily so an API started while the broker is down still serves, and answers 503."""
        if self._producer is not None:
            return self._producer
        async with self._lock:
            if self._producer is None:
                producer = AIOKafkaProducer(
                    bootstrap_servers=self._bootstrap,
                    acks="all",
                    compression_type=self._compression,
                    linger_ms=2,
                    max_batch_size=1024 * 1024,
                    max_request_size=8 * 1024 * 1024,
                    request_timeout_ms=int(self._timeout_s * 1000),
                )
                try:
                    await asyncio.wait_for(producer.start(), self._timeout_s)
                except (KafkaError, OSError, asyncio.TimeoutError) as exc:
                    await producer.stop()
                    raise BrokerUnavailable(f"cannot reach the broker at {self._bootstrap}: {exc!r}") from exc
                self._producer = producer
        return self._producer

    async def publish(self, topic: str, messages: Sequence[Message]) -> None:
        """Publish keyed messages and wait for every acknowledgement, or raise BrokerUnavailable.

        Messages are grouped by partition (Kafka's murmur2 of the key, as every Kafka
        producer does) and handed over as whole record batches, a quarter of the client's
        cost of per-message `send()` (bench/RESULTS.md, ingest).
        """
        if not messages:
            return
        producer = await self._ensure_started()
        try:
            async with asyncio.timeout(self._timeout_s):
                partitions = sorted(await producer.partitions_for(topic))
                groups: dict[int, list[Message]] = defaultdict(list)
                for message in messages:
                    groups[partition_for(message[0], partitions)].append(message)
                deliveries = await asyncio.gather(
                    *(self._send(producer, topic, partition, group) for partition, group in groups.items())
                )
                await asyncio.gather(*(d for per_partition in deliveries for d in per_partition))
        except (KafkaError, OSError, TimeoutError) as exc:
            raise BrokerUnavailable(f"the broker did not acknowledge {len(messages)} message(s): {exc!r}") from exc

    async def _send(self, producer: AIOKafkaProducer, topic: str, partition: int, messages: list[Message]) -> list:
        batches = [producer.create_batch()]
        for key, value in messages:
            if batches[-1].append(key=key, value=value, timestamp=None) is None:
                batches.append(producer.create_batch())
                if batches[-1].append(key=key, value=value, timestamp=None) is None:
                    raise BrokerUnavailable(f"a message of {len(value)} bytes exceeds the producer's batch size")
        # One hand-over at a time per partition: aiokafka's accumulator holds one pending
        # batch per partition, and concurrent waiters there time out spuriously.
        async with self._locks[(topic, partition)]:
            return [await producer.send_batch(batch, topic, partition=partition) for batch in batches]

    async def close(self) -> None:
        if self._producer is not None:
            await self._producer.stop()
            self._producer = None


async def broker_reachable(bootstrap: str, timeout_s: float = 3.0) -> bool:
    """Readiness probe: can a client fetch cluster metadata right now?"""
    admin = AIOKafkaAdminClient(bootstrap_servers=bootstrap, request_timeout_ms=int(timeout_s * 1000))
    try:
        await asyncio.wait_for(admin.start(), timeout_s)
        await asyncio.wait_for(admin.list_topics(), timeout_s)
        return True
    except (KafkaError, OSError, asyncio.TimeoutError):
        return False
    finally:
        await admin.close()


def consumer(bootstrap: str, topics: Sequence[str], *, group_id: str | None, start: str = "earliest",
             **options) -> AIOKafkaConsumer:
    """A consumer for workers, feeds and tests; offsets are managed by the caller, never
    auto-committed. Without stored offsets it reads from `start`: "earliest" or "latest"."""
    return AIOKafkaConsumer(
        *topics,
        bootstrap_servers=bootstrap,
        group_id=group_id,
        enable_auto_commit=False,
        auto_offset_reset=start,
        **options,
    )


class _Listener(ConsumerRebalanceListener):
    def __init__(self, on_assigned, on_revoked) -> None:
        self._on_assigned, self._on_revoked = on_assigned, on_revoked

    async def on_partitions_revoked(self, revoked) -> None:
        await self._on_revoked(sorted(tp.partition for tp in revoked))

    async def on_partitions_assigned(self, assigned) -> None:
        await self._on_assigned(sorted(tp.partition for tp in assigned))


def group_consumer(bootstrap: str, topic: str, group_id: str, *, on_assigned, on_revoked,
                   **options) -> AIOKafkaConsumer:
    """A consumer-group member whose callbacks receive partition numbers of `topic` and may
    `seek` before consumption resumes (aiokafka awaits the listener during a rebalance)."""
    c = AIOKafkaConsumer(bootstrap_servers=bootstrap, group_id=group_id, enable_auto_commit=False,
                         auto_offset_reset="earliest", **options)
    c.subscribe([topic], listener=_Listener(on_assigned, on_revoked))
    return c


def seek(c: AIOKafkaConsumer, topic: str, partition: int, offset: int) -> None:
    c.seek(TopicPartition(topic, partition), offset)


def highwater(c: AIOKafkaConsumer, topic: str, partition: int) -> int | None:
    """The partition's end offset as of the last fetch response (None before the first)."""
    return c.highwater(TopicPartition(topic, partition))


async def seek_to_beginning(c: AIOKafkaConsumer, topic: str, partitions: Iterable[int]) -> None:
    """All of them in one call: each call waits for a round of the client's offset look-ups
    (~45 ms on the embedded broker; a worker's five members with 8 partitions each took
    0.4 s of its start one partition at a time)."""
    tps = [TopicPartition(topic, p) for p in partitions]
    if tps:
        await c.seek_to_beginning(*tps)


async def from_now(c: AIOKafkaConsumer) -> None:
    """Fix the position of every assigned partition at its end as it is now: everything
    published after this returns is read (a "latest" left to resolve at the first fetch
    may start after it)."""
    for tp in c.assignment():
        await c.position(tp)
