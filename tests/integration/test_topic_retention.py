"""Topics are created with the retention configs, and what the publisher sends, compressed
(gzip) or not, reads back, on the real broker. (The embedded Tansu broker stores the
configs and enforces none: docs/operations.md; Apache Kafka enforces them.)"""
from __future__ import annotations

import orjson
import pytest
from aiokafka.admin import AIOKafkaAdminClient
from aiokafka.admin.config_resource import ConfigResource, ConfigResourceType

from streams.kafka import Publisher
from streams.topics import Topics, retention_configs
from tests.topic import read_topic
from tracker.serve import create_topics

pytestmark = pytest.mark.integration


async def _configs(bootstrap: str, topic: str) -> dict[str, str]:
    admin = AIOKafkaAdminClient(bootstrap_servers=bootstrap)
    await admin.start()
    try:
        [response] = await admin.describe_configs([ConfigResource(ConfigResourceType.TOPIC, topic)])
        [resource] = response.resources
        return {entry[0]: entry[1] for entry in resource[4]}
    finally:
        await admin.close()


async def test_topics_are_created_with_retention(settings):
    settings = settings.with_(topic_retention_hours=48, topic_retention_mb=256)
    await create_topics(settings)
    configs = await _configs(settings.kafka_bootstrap, Topics(settings.topic_prefix).fixes)
    wanted = retention_configs(48, 256)
    assert {k: configs.get(k) for k in wanted} == wanted
    assert wanted["retention.ms"] == str(48 * 3_600_000) and wanted["retention.bytes"] == str(256 << 20)


@pytest.mark.parametrize("compression", ["gzip", "none"])
async def test_batches_read_back_compressed_or_not(settings, topics, compression):
    await create_topics(settings)
    publisher = Publisher(settings.kafka_bootstrap, compression=compression)
    try:
        messages = [(f"浙B{i:05d}".encode(), orjson.dumps({"i": i, "pad": "x" * 200})) for i in range(500)]
        await publisher.publish(topics.fixes, messages)
    finally:
        await publisher.close()
    got = await read_topic(settings.kafka_bootstrap, topics.fixes, 500)
    assert sorted(value["i"] for _, value in got) == list(range(500))
