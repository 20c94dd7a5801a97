"""Our cached partition choice equals Kafka's default partitioner, so a plate's fixes land in
the partition any other Kafka producer (the JT/T 808 gateway, a carrier's own) would pick."""
from __future__ import annotations

from aiokafka.partitioner import DefaultPartitioner
from hypothesis import given
from hypothesis import strategies as st

from streams.kafka import partition_for


@given(st.text(min_size=1, max_size=12), st.integers(min_value=1, max_value=64))
def test_same_partition_as_kafka_default(plate, count):
    partitions = list(range(count))
    key = plate.encode()
    assert partition_for(key, partitions) == DefaultPartitioner()(key, partitions, partitions)


def test_unkeyed_messages_spread_over_existing_partitions():
    assert {partition_for(None, [0, 1, 2]) for _ in range(200)} == {0, 1, 2}
