"""Issue 13: no record stops a worker. Records a foreign producer put on the topics, that
the API would refuse (a filling record dated in the year 33658, an id holding NUL, not
JSON), are dead-lettered once with their reason and their offsets committed; the worker
process stays up across restarts (no crash loop on a broker that keeps its topics) and
the records behind them are handled."""
from __future__ import annotations

import asyncio
import time

import orjson
import pytest

from streams.kafka import Publisher
from tests.client import Api, ApiTestServer, fleet_body
from tests.contracts import validate
from tests.integration.test_worker_reliability import start_worker
from tests.topic import read_topic
from tests.waiting import until
from tracker.api.app import create_app
from tracker.api.context import POOL
from tracker.auth import ADMIN, insert_token, new_token
from tracker.serve import create_topics

pytestmark = pytest.mark.integration


async def test_poison_filling_records_are_dead_lettered_once_across_restarts(aiohttp_client, own_database, topics,
                                                                              tmp_path):
    settings = own_database.with_(topic_partitions=1)
    await create_topics(settings)
    client = await aiohttp_client(ApiTestServer(create_app(settings)))
    token = new_token()
    await insert_token(client.app[POOL], token, ADMIN, "test admin")
    api = Api(client, token)
    fleet, body = fleet_body()
    await api.json("PUT", "/v1/registry", token, expect=200, json=body)
    carrier = fleet.carriers[0]
    plate = fleet.plates[carrier][0]
    driver, escort = fleet.drivers[carrier]
    now = int(time.time() * 1000)
    good = {"id": "R-ok", "station_id": "S1", "plate": plate, "driver_id": driver, "escort_id": escort,
            "un_number": "1203", "hazard_class": "3", "quantity_kg": 45_000, "filled_at": now - 60_000,
            "received_at": now}
    poison = [orjson.dumps(dict(good, id="R-33658", filled_at=1_000_000_000_000_000)),
              orjson.dumps(dict(good, id="R-\u0000")), b"\xff not json"]
    publisher = Publisher(settings.kafka_bootstrap)
    try:
        await publisher.publish(topics.filling, [(plate.encode(), b) for b in poison]
                                + [(plate.encode(), orjson.dumps(good))])
    finally:
        await publisher.close()

    pool = client.app[POOL]

    async def overload_checked():
        return await pool.fetchval("SELECT count(*) FROM violations WHERE plate = $1 AND kind = 'filling_overload'",
                                   plate) == 1

    for start in range(3):  # the first start, then two restarts on the same topics
        with open(tmp_path / f"worker{start}.log", "wb") as log:
            worker = start_worker(settings, log)
            try:
                await until(overload_checked, 60, "the record behind the poison checked")
                dead = await read_topic(settings.kafka_bootstrap, topics.deadletter, len(poison), timeout_s=20)
                time_up = time.monotonic() + 5
                while time.monotonic() < time_up:  # the process stays up with the poison on its topic
                    assert worker.poll() is None, (tmp_path / f"worker{start}.log").read_text()
                    await asyncio.sleep(0.5)
            finally:
                worker.terminate()
                assert worker.wait(30) == 0
    with pytest.raises(AssertionError):  # each poison record dead-lettered once, not at every start
        await read_topic(settings.kafka_bootstrap, topics.deadletter, len(poison) + 1, timeout_s=5)
    for (_, record), raw in zip(dead, poison):
        validate("deadletter.schema.json", record)
        assert record["input"] == raw.decode(errors="replace") and record["error"]
    assert "filled_at" in dead[0][1]["error"] and "id" in dead[1][1]["error"]
