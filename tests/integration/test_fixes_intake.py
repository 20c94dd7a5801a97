"""POST /v1/fixes against the real broker and PostGIS."""
from __future__ import annotations

import io
import time

import orjson
import pytest

from tests.client import ApiTestServer
from tests.contracts import validate
from tests.topic import read_topic, topic_is_empty

pytestmark = pytest.mark.integration


def now_ms() -> int:
    return int(time.time() * 1000)


def fix(plate_: str, **over) -> dict:
    item = {"plate": plate_, "ts": now_ms() - 1000, "lat": 29.9, "lon": 121.85, "speed_kmh": 40.5, "heading_deg": 90}
    item.update(over)
    return item


@pytest.fixture
async def gateway(api, fleet):
    return await api.token("gateway", carrier_id=fleet.carriers[0])


async def test_published_fixes_equal_the_normalised_input(api, fleet, gateway, settings, topics):
    plate = fleet.plates[fleet.carriers[0]][0]
    spaced = plate[:2] + " ·" + plate[2:]  # the same plate as a gateway might spell it
    a_minute_ago = int(time.time()) - 60
    local = time.strftime("%Y-%m-%dT%H:%M:%S+08:00", time.gmtime(a_minute_ago + 8 * 3600))
    items = [
        fix(spaced, ts=now_ms() - 5000, alt_m=12.5, sats=9, seq=1),
        fix(plate, ts=local, hdop=0.9, seq=2),
    ]
    status, body = await api.json("POST", "/v1/fixes", gateway, json=items)
    assert status == 202, body
    validate("intake_result.schema.json", body)
    assert body == {"accepted": 2, "rejected": []}
    messages = await read_topic(settings.kafka_bootstrap, topics.fixes, 2)
    assert [k for k, _ in messages] == [plate, plate]
    by_seq = {v["seq"]: v for _, v in messages}
    for value in by_seq.values():
        validate("normalised_fix.schema.json", value)
        assert abs(value["received_at"] - now_ms()) < 30_000
    extra = {"plate": plate, "carrier_id": fleet.carriers[0], "source": "http"}
    assert by_seq[1] == {**items[0], **extra, "received_at": by_seq[1]["received_at"]}
    assert by_seq[2] == {**items[1], **extra, "ts": a_minute_ago * 1000, "received_at": by_seq[2]["received_at"]}


def rejects() -> list[tuple[dict, str]]:
    """Bad items and the reason each gets; times built from now, when the test runs."""
    return [
        ({"plate": "浙B00000"}, "unknown plate"),
        ({"lat": 91}, "lat"),
        ({"lon": -181}, "lon"),
        ({"lat": 0, "lon": 0}, "(0,0)"),
        ({"speed_kmh": -1}, "speed_kmh"),
        ({"speed_kmh": 251}, "speed_kmh"),
        ({"heading_deg": 360}, "heading_deg"),
        ({"ts": time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime())}, "offset"),
        ({"ts": "yesterday"}, "RFC 3339"),
        ({"ts": 10**13 * 10}, "maximum"),  # year 5138
        ({"ts": "9999-12-31T23:59:59-12:00"}, "2100"),
        ({"ts": now_ms() + 3_600_000}, "future"),
        ({"ts": 1_000_000}, "minimum"),
        ({"ts": now_ms() - 8 * 86_400_000}, "older than 7 days"),
        ({"lat": "29.9"}, "lat"),
        ({"extra": 1}, "extra"),
        ({"plate": "<img src=x onerror=alert(1)>"}, "not a vehicle plate"),
        ({"plate": "浙B\u000012345"}, "plate"),
        ({"plate": " "}, "not a vehicle plate"),
        ({"plate": "x" * 100}, "plate"),
    ]


async def test_partial_rejection_lists_indexes_and_dead_letters_each(api, fleet, gateway, settings, topics):
    plate = fleet.plates[fleet.carriers[0]][0]
    foreign = fleet.plates[fleet.carriers[1]][0]
    items = [fix(plate)]
    expected = {}
    for over, reason in rejects():
        expected[len(items)] = reason
        items.append(fix(plate, **over))
    expected[len(items)] = "another carrier"
    items.append(fix(foreign))
    missing = fix(plate)
    del missing["heading_deg"]
    expected[len(items)] = "heading_deg"
    items.append(missing)
    expected[len(items)] = "JSON object"
    items.append([1, 2])
    items.append(fix(plate, speed_kmh=250, heading_deg=359.9))  # both limits are inclusive-valid
    status, body = await api.json("POST", "/v1/fixes", gateway, json=items)
    assert status == 202, body
    validate("intake_result.schema.json", body)
    assert body["accepted"] == 2
    assert [r["index"] for r in body["rejected"]] == sorted(expected)
    for rejection in body["rejected"]:
        assert expected[rejection["index"]] in rejection["error"], rejection
    dead = await read_topic(settings.kafka_bootstrap, topics.deadletter, len(expected))
    assert len(dead) == len(expected)
    for key, record in dead:
        validate("deadletter.schema.json", record)
        assert record["source"] == "http/fixes"
    inputs = [record["input"] for _, record in dead]
    for index in expected:
        assert items[index] in inputs
    assert {k for k, _ in dead} == {plate, foreign, "浙B00000", None}
    published = await read_topic(settings.kafka_bootstrap, topics.fixes, 2)
    assert len(published) == 2


@pytest.mark.parametrize(
    "body, status",
    [
        (b"not json", 400),
        (b'{"plate": "x"}', 400),
        (b'"a string"', 400),
        (b"", 400),
    ],
)
async def test_malformed_bodies_are_refused_whole(api, gateway, settings, topics, body, status):
    response = await api.call("POST", "/v1/fixes", gateway, data=body, headers={"Content-Type": "application/json"})
    assert response.status == status
    assert response.headers["Content-Type"].startswith("application/problem+json")
    validate("problem.schema.json", await response.json(content_type=None))
    assert await topic_is_empty(settings.kafka_bootstrap, topics.fixes)
    assert await topic_is_empty(settings.kafka_bootstrap, topics.deadletter, wait_s=0.5)


async def test_oversize_bodies_and_batches_are_413(api, fleet, gateway, settings, topics):
    plate = fleet.plates[fleet.carriers[0]][0]
    too_many = [fix(plate)] * (settings.max_batch_items + 1)
    response = await api.call("POST", "/v1/fixes", gateway, data=io.BytesIO(orjson.dumps(too_many)),
                              headers={"Content-Type": "application/json"})
    assert response.status == 413
    huge = io.BytesIO(b"[" + b" " * settings.max_body_bytes + b"]")
    response = await api.call("POST", "/v1/fixes", gateway, data=huge, headers={"Content-Type": "application/json"})
    assert response.status == 413
    validate("problem.schema.json", await response.json(content_type=None))
    assert await topic_is_empty(settings.kafka_bootstrap, topics.fixes)


async def test_broker_down_is_503_and_nothing_accepted(aiohttp_client, settings, database_url, fleet, api):
    """A broker that stops mid-life: the intake must not claim anything was accepted."""
    from tests import stack
    from tracker.api.app import create_app

    with stack.broker() as own_broker:
        own = settings.with_(kafka_bootstrap=own_broker.bootstrap, broker_timeout_s=2.0)
        client = await aiohttp_client(ApiTestServer(create_app(own)))
        from tests.client import Api

        own_api = Api(client, api.admin_token)
        gateway = await own_api.token("gateway", carrier_id=fleet.carriers[0])
        plate = fleet.plates[fleet.carriers[0]][0]
        status, _ = await own_api.json("POST", "/v1/fixes", gateway, json=[fix(plate)])
        assert status == 202
    status, body = await own_api.json("POST", "/v1/fixes", gateway, json=[fix(plate), fix(plate, lat=99)])
    assert status == 503, body
    assert "nothing was accepted" in body["detail"]
    validate("problem.schema.json", body)
    status, body = await own_api.json("GET", "/readyz")
    assert status == 503 and body["broker"] is False and body["database"] is True
