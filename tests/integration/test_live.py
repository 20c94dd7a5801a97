"""GET /v1/live over the real broker: a subscription's positions and violation events,
GCJ-02, bad subscriptions, tokens in the query string, and slow clients told to go."""
from __future__ import annotations

import time

import orjson
import pytest
from aiohttp import WSMsgType

import tracker.api.live
from geofence.gcj02 import wgs84_to_gcj02
from streams.kafka import Publisher
from streams.rules.violations import OPENED, cloud_event, open_violation
from streams.times import rfc3339
from tests.client import ApiTestServer
from tests.contracts import validate
from tracker.api.app import create_app
from tracker.db.handling import new_handling
from tracker.dev.localstack import free_port

pytestmark = pytest.mark.integration


def fix(plate: str, t: int, lat: float, lon: float) -> dict:
    return {"plate": plate, "ts": t, "lat": lat, "lon": lon, "speed_kmh": 40.0, "heading_deg": 90.0}


async def receive(ws, timeout_s: float = 15.0) -> dict:
    msg = await ws.receive(timeout=timeout_s)
    assert msg.type == WSMsgType.TEXT, msg
    message = orjson.loads(msg.data)
    validate("live_message.schema.json", message)
    return message


async def subscribe(ws, **wanted) -> dict:
    await ws.send_str(orjson.dumps({"subscribe": wanted}).decode())
    answer = await receive(ws)
    assert answer["type"] == "subscribed", answer
    return answer["subscription"]


async def test_positions_and_violations_of_the_subscription_arrive(api, fleet, settings, topics):
    carrier = fleet.carriers[0]
    watched, other = fleet.plates[carrier]
    operator = await api.token("operator")
    gateway = await api.token("gateway", carrier_id=carrier)
    now = int(time.time() * 1000)
    async with api.client.ws_connect(f"/v1/live?access_token={operator}") as ws:
        assert await subscribe(ws, plates=[watched], bbox=[121.0, 29.0, 122.5, 30.5]) == {
            "bbox": [121.0, 29.0, 122.5, 30.5], "plates": [watched], "crs": "wgs84"}
        fixes = [fix(other, now - 2000, 29.9, 121.8), fix(watched, now - 1000, 29.9, 121.8),
                 fix(watched, now - 500, 31.0, 121.8), fix(watched, now, 29.91, 121.81)]  # 2nd outside the box
        await api.json("POST", "/v1/fixes", gateway, expect=202, json=fixes)
        got = [await receive(ws), await receive(ws)]
        assert [(m["type"], m["plate"], m["ts"], m["lat"]) for m in got] == [
            ("position", watched, rfc3339(now - 1000), 29.9), ("position", watched, rfc3339(now), 29.91)]
        assert got[0]["carrier_id"] == carrier
        assert [m["status"] for m in got] == ["moving", "moving"]  # 40 km/h, as the rules see it
        violation = open_violation("speeding", watched, carrier, now, 29.91, 121.81)
        publisher = Publisher(settings.kafka_bootstrap)
        try:
            await publisher.publish(topics.violations, [(watched.encode(), orjson.dumps(cloud_event(OPENED, violation)))])
        finally:
            await publisher.close()
        # with its handling, read as the event passes (none stored: new)
        assert await receive(ws) == {"type": "violation", "event": OPENED,
                                     "violation": dict(violation.wire(), handling=new_handling())}

        await subscribe(ws, plates=[watched], crs="gcj02")
        await api.json("POST", "/v1/fixes", gateway, expect=202, json=[fix(watched, now + 1000, 29.92, 121.82)])
        moved = await receive(ws)
        lon, lat = wgs84_to_gcj02(121.82, 29.92)
        assert (moved["lon"], moved["lat"]) == pytest.approx((float(lon), float(lat)), abs=1e-9)


async def test_a_bad_subscription_is_explained_and_the_one_before_stays(api, fleet):
    carrier = fleet.carriers[0]
    plate = fleet.plates[carrier][0]
    operator = await api.token("operator")
    async with api.client.ws_connect("/v1/live", headers={"Authorization": f"Bearer {operator}"}) as ws:
        await subscribe(ws, plates=[plate])
        for bad, words in [("not json", "not a subscription"), ('{"subscribe": {"bbox": [1, 2]}}', "bbox"),
                           ('{"subscribe": {"bbox": [3, 2, 1, 4]}}', "min before max"),
                           ('{"watch": []}', "'watch' was unexpected"),
                           # found by a newcomer's probe: the last key won, and the whole fleet streamed
                           ('{"subscribe": {"plates": ["a"]}, "subscribe": {}}', "twice"),
                           ('{"subscribe": {"plates": [%s]}}' % ",".join(['"x"'] * 200_000), "not a subscription")]:
            await ws.send_str(bad)
            answer = await receive(ws)
            assert answer["type"] == "error" and words in answer["error"], (bad[:80], answer)
            assert len(answer["error"]) <= 500  # never the client's message echoed back
        now = int(time.time() * 1000)
        await api.json("POST", "/v1/fixes", await api.token("gateway", carrier_id=carrier), expect=202,
                       json=[fix(plate, now, 29.9, 121.8)])
        assert (await receive(ws))["plate"] == plate


async def test_only_operators_and_admins_and_a_known_token(api, fleet):
    gateway = await api.token("gateway", carrier_id=fleet.carriers[0])
    assert (await api.call("GET", f"/v1/live?access_token={gateway}")).status == 403
    assert (await api.call("GET", "/v1/live?access_token=nope")).status == 401
    assert (await api.call("GET", "/v1/live")).status == 401
    # The query string carries tokens for the WebSocket only.
    operator = await api.token("operator")
    assert (await api.call("GET", f"/v1/vehicles?access_token={operator}")).status == 401


async def test_a_client_that_falls_behind_is_told_to_reconnect(api, fleet, monkeypatch):
    """Fixes of one request reach the feed in one poll, offered to the client at once: more
    than its queue holds closes it with 1013."""
    monkeypatch.setattr(tracker.api.live, "QUEUE", 3)
    carrier = fleet.carriers[0]
    plate = fleet.plates[carrier][0]
    operator = await api.token("operator")
    gateway = await api.token("gateway", carrier_id=carrier)
    now = int(time.time() * 1000)
    async with api.client.ws_connect(f"/v1/live?access_token={operator}") as ws:
        await subscribe(ws, plates=[plate])
        await api.json("POST", "/v1/fixes", gateway, expect=202,
                       json=[fix(plate, now - 1000 + i, 29.9, 121.8) for i in range(50)])
        types = []
        while True:
            msg = await ws.receive(timeout=15)
            if msg.type != WSMsgType.TEXT:
                break
            types.append(orjson.loads(msg.data)["type"])
        assert msg.type == WSMsgType.CLOSE and ws.close_code == 1013, msg
        assert set(types) <= {"position"} and len(types) < 50


async def test_without_a_broker_a_subscription_is_refused_and_explained(aiohttp_client, settings, api):
    """The API process shares the test's database (the operator's token) but not its broker."""
    client = await aiohttp_client(ApiTestServer(create_app(settings.with_(kafka_bootstrap=f"127.0.0.1:{free_port()}"))))
    operator = await api.token("operator")
    async with client.ws_connect(f"/v1/live?access_token={operator}") as ws:
        await ws.send_str('{"subscribe": {}}')
        answer = await receive(ws)
        assert answer["type"] == "error" and "the live feed cannot start" in answer["error"], answer


async def test_a_message_off_contract_is_skipped_and_the_feed_goes_on(api, fleet, settings, topics):
    plate = fleet.plates[fleet.carriers[0]][0]
    operator = await api.token("operator")
    good = dict(fix(plate, int(time.time() * 1000), 29.9, 121.8), carrier_id=fleet.carriers[0])
    async with api.client.ws_connect(f"/v1/live?access_token={operator}") as ws:
        await subscribe(ws, plates=[plate])
        publisher = Publisher(settings.kafka_bootstrap)
        try:
            await publisher.publish(topics.fixes, [(plate.encode(), b"not json"), (plate.encode(), b'{"plate": 1}'),
                                                   (plate.encode(), orjson.dumps(good))])
        finally:
            await publisher.close()
        assert (await receive(ws))["ts"] == rfc3339(good["ts"])
