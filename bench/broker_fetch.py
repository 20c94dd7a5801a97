"""How the embedded broker's fetches behave as a partition's record batches grow (issue 26).

The partitions of a topic on a fresh embedded broker are filled with batches of one
~250-byte record (the worst case; `bench/soak.py` measures the batches a simulated fleet
really makes). At each step (batches per partition) a new consumer of every partition, for
each `fetch_max_wait_ms`, seeks to 10 records before each end and polls for up to 15 s: did
it receive anything, and after how long? (With several partitions: does one fetch cost the
sum of its partitions' batches?) Then a consumer of partition 0 that
has caught up receives 10 records produced 100 ms apart: how late does each arrive (what a
longer wait costs a live reader)?

    python -m bench.broker_fetch [--steps 1000,50000,100000,150000] [--waits 50,500] [--partitions 1]
"""
from __future__ import annotations

import argparse
import asyncio
import time

from aiokafka import AIOKafkaConsumer, AIOKafkaProducer, TopicPartition

from streams.kafka import ensure_topics
from tracker.dev.localstack import EmbeddedBroker

TOPIC = "fetch.bench"


async def probe(bootstrap: str, wait_ms: int, offsets: list[int]) -> tuple[int, float]:
    """Records received by a fresh consumer of every partition from `offsets` within 15 s,
    and the time taken."""
    c = AIOKafkaConsumer(bootstrap_servers=bootstrap, fetch_max_wait_ms=wait_ms)
    await c.start()
    tps = [TopicPartition(TOPIC, p) for p in range(len(offsets))]
    c.assign(tps)
    for tp, offset in zip(tps, offsets):
        c.seek(tp, offset)
    started, got = time.monotonic(), 0
    try:
        while time.monotonic() - started < 15 and not got:
            got = sum(len(v) for v in (await c.getmany(timeout_ms=1000)).values())
        return got, time.monotonic() - started
    finally:
        await c.stop()


async def tail_delay_ms(bootstrap: str, producer: AIOKafkaProducer, wait_ms: int) -> list[float]:
    """Delays from producing to receiving of 10 records at a caught-up consumer (sorted)."""
    c = AIOKafkaConsumer(bootstrap_servers=bootstrap, fetch_max_wait_ms=wait_ms)
    await c.start()
    tp = TopicPartition(TOPIC, 0)
    c.assign([tp])
    await c.seek_to_end(tp)
    await c.position(tp)
    sent: dict[int, float] = {}
    delays: list[float] = []

    async def produce() -> None:
        for i in range(10):
            await asyncio.sleep(0.1)
            sent[i] = time.monotonic()
            await producer.send_and_wait(TOPIC, str(i).encode(), partition=0)

    task = asyncio.create_task(produce())
    try:
        async with asyncio.timeout(30):
            while len(delays) < 10:
                for records in (await c.getmany(timeout_ms=1000)).values():
                    now = time.monotonic()
                    delays += [(now - sent[int(r.value)]) * 1000 for r in records]
    except TimeoutError:
        delays.append(float("inf"))
    finally:
        await task
        await c.stop()
    return sorted(delays)


async def one_batch(producer: AIOKafkaProducer, partition: int) -> None:
    batch = producer.create_batch()
    batch.append(key=None, value=b"x" * 250, timestamp=None)
    await producer.send_batch(batch, TOPIC, partition=partition)


async def run(steps: list[int], waits: list[int], partitions: int) -> None:
    broker = EmbeddedBroker.start()
    try:
        await ensure_topics(broker.bootstrap, [TOPIC], partitions)
        producer = AIOKafkaProducer(bootstrap_servers=broker.bootstrap, linger_ms=0)
        await producer.start()
        sent, tail, t0 = 0, 0, time.monotonic()  # batches in every partition; records partition 0 has more
        try:
            for target in steps:
                while sent < target:  # one record per batch: each waits for the previous to leave
                    await asyncio.gather(*(one_batch(producer, p) for p in range(partitions)))
                    sent += 1
                await producer.flush()
                rss = (broker.rss_bytes() or 0) >> 20
                for wait in waits:
                    got, took = await probe(broker.bootstrap, wait, [sent + tail - 10] + [sent - 10] * (partitions - 1))
                    delays = await tail_delay_ms(broker.bootstrap, producer, wait) if got else []
                    tail += len(delays)
                    print(f"[{time.monotonic() - t0:6.0f} s] batches/partition={sent:>7} broker={rss:>4} MB "
                          f"fetch_max_wait_ms={wait:>4}: {'received' if got else 'NOTHING'} "
                          f"{got} in {took * 1000:.0f} ms"
                          + (f"; live records arrive after {delays[5]:.0f} ms (median), {delays[-1]:.0f} ms (max)"
                             if delays else ""), flush=True)
        finally:
            await producer.stop()
    finally:
        broker.stop()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--steps", default="1000,50000,100000,150000")
    parser.add_argument("--waits", default="50,500")
    parser.add_argument("--partitions", type=int, default=1)
    args = parser.parse_args()
    asyncio.run(run([int(s) for s in args.steps.split(",")], [int(w) for w in args.waits.split(",")],
                    args.partitions))


if __name__ == "__main__":
    main()
