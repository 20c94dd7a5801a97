"""What terminals signal and what drivers are told, over real TCP against the real broker
and PostGIS: an SOS through the JT/T 808 gateway becomes `sos` within a second, a DSM/ADAS
item an `active_safety`, an operator's text reaches the terminal and shows `delivered`
after its 0x0001, a speeding vehicle's terminal gets its reminder, and a text to a
terminal that is away waits queued."""
from __future__ import annotations

import asyncio
import random
import time

import pytest
from prometheus_client import REGISTRY

from streams.alarms import SOS_BITS
from tests.client import fleet_body
from tests.contracts import validate
from tests.members import member_running
from tests.topic import read_topic
from tests.waiting import until
from tracker.api.context import POOL
from tracker.dev.terminal import Terminal, location, safety_item
from tracker.workers.reminders import Reminders

pytestmark = pytest.mark.integration

LAT0, LON0 = 29.90, 121.80
M_LON = 1 / 96_400


def now_ms() -> int:
    return int(time.time() * 1000)


@pytest.fixture
async def vehicles(api):
    fleet, body = fleet_body()
    base = random.randrange(10**9, 9 * 10**9)
    phones = {}
    for n, vehicle in enumerate(body["vehicles"]):
        vehicle["terminal_phone"] = phones[vehicle["plate"]] = f"1{base + n:010d}"
    await api.json("PUT", "/v1/registry", api.admin_token, expect=200, json=body)
    return [p for c in fleet.carriers for p in fleet.plates[c]], phones


async def signed_in(gateway, plate: str, phone: str, version: str) -> Terminal:
    t = await Terminal(phone.rjust(12 if version == "2013" else 20, "0"), version).connect("127.0.0.1", gateway.port)
    result, code = await t.register(plate)
    assert result == 0 and code and await t.authenticate(code) == 0
    return t


def opened(kind: str, plate: str):
    return lambda e: e["data"]["kind"] == kind and e["data"]["plate"] == plate and e["type"].endswith("opened")


async def test_sos_and_active_safety_through_the_gateway(api, gateway, vehicles, settings, topics, worker):
    plates, phones = vehicles
    plate = plates[0]
    t = await signed_in(gateway, plate, phones[plate], "2019")
    t0 = now_ms() // 1000 * 1000 - 60_000
    assert await t.report(location(LAT0, LON0, t0, speed_kmh=30)) == 0  # (the worker has joined once it is stored)

    async def stored():
        return await api.client.app[POOL].fetchval("SELECT count(*) FROM positions WHERE plate = $1", plate)

    await until(stored, 30)
    started = time.monotonic()
    assert await t.report(location(LAT0, LON0 + 100 * M_LON, t0 + 10_000, speed_kmh=30, alarm_flags=SOS_BITS)) == 0
    [(key, event)] = await read_topic(settings.kafka_bootstrap, topics.violations, 1, wanted=opened("sos", plate))
    assert time.monotonic() - started < 1.0, "sos took more than a second"
    validate("violation_event.schema.json", event)
    assert key == plate and event["data"]["severity"] == "high" and event["data"]["agencies"] == ["police", "emergency"]

    adas = safety_item(LAT0, LON0, item_id=0x64, type_code=1, level=2, speed_kmh=62, alarm_id=77)
    assert await t.report(location(LAT0, LON0 + 200 * M_LON, t0 + 20_000, speed_kmh=62, alarm_flags=SOS_BITS,
                                   safety={0x64: adas})) == 0
    [(_, event)] = await read_topic(settings.kafka_bootstrap, topics.violations, 1,
                                    wanted=opened("active_safety", plate))
    data = event["data"]
    assert data["severity"] == "high" and data["agencies"] == ["transport", "emergency"]
    assert data["details"] == {"source": "adas", "type": "forward_collision", "level": 2, "speed_kmh": 62,
                               "alarm_id": 77}
    # the safety office resolves it: closed at once (the terminal still reports the bit)
    sos_id = (await api.json("GET", f"/v1/violations?plate={plate}&kind=sos", api.admin_token,
                             expect=200))[1]["items"][0]["violation_id"]
    _, resolved = await api.json("POST", f"/v1/violations/{sos_id}/resolve", api.admin_token, expect=200,
                                 json={"disposition": "handled", "note": "已联系驾驶员，误触"})
    assert resolved["status"] == "closed" and resolved["details"]["closed_by_resolution"] is True
    closed = lambda e: e["data"]["kind"] == "sos" and e["type"].endswith("closed") and e["data"]["plate"] == plate  # noqa
    [(_, event)] = await read_topic(settings.kafka_bootstrap, topics.violations, 1, wanted=closed)
    assert event["id"] == f"{sos_id}.closed"
    await t.close()


async def test_an_operators_text_is_delivered_and_a_speeder_reminded(api, gateway, vehicles, settings, topics,
                                                                   worker):
    plates, phones = vehicles
    plate, away = plates[0], plates[1]
    operator = await api.token("operator")
    delivered_before = REGISTRY.get_sample_value("hazmat_jt808_texts_total", {"outcome": "delivered"}) or 0
    t = await signed_in(gateway, plate, phones[plate], "2013")
    status, answer = await api.json("POST", f"/v1/terminals/{phones[plate]}/messages", operator,
                                    json={"text": "请于15时前返回园区停车场", "tts": True, "urgent": True})
    assert status == 202 and answer["state"] == "sent", answer
    assert await t.next_text() == "请于15时前返回园区停车场"

    async def delivered():
        _, listing = await api.json("GET", f"/v1/terminals/0{phones[plate]}/messages", operator, expect=200)
        return listing["items"] if listing["items"][0]["state"] == "delivered" else None

    [item] = await until(delivered, 10)
    validate("terminal_message.schema.json", item)
    assert item["message_id"] == answer["message_id"] and item["result"] == 0 and item["by"] == "test operator"
    assert REGISTRY.get_sample_value("hazmat_jt808_texts_total", {"outcome": "delivered"}) == delivered_before + 1

    # a terminal that is away: queued, then sent once it authenticates
    status, answer = await api.json("POST", f"/v1/terminals/{phones[away]}/messages", operator,
                                    json={"text": "请开机"})
    assert (status, answer["state"]) == (202, "queued")
    late = await signed_in(gateway, away, phones[away], "2019")
    assert await late.next_text() == "请开机"

    # a speeding violation opens: the vehicle's terminal gets one reminder, recorded as a message
    async with member_running(Reminders, settings, with_references=False):
        t0 = now_ms() // 1000 * 1000 - 600_000
        for s in range(0, 61, 10):
            assert await t.report(location(LAT0, LON0 + 25 * s * M_LON, t0 + s * 1000, speed_kmh=90,
                                           heading_deg=90)) == 0
        assert await t.next_text(40) == "您已超速，请减速慢行"

        async def reminded():
            _, listing = await api.json("GET", f"/v1/terminals/{phones[plate]}/messages", operator, expect=200)
            return [m for m in listing["items"] if m["by"] == "reminder" and m["state"] == "delivered"] or None

        [reminder] = await until(reminded, 10)
        assert reminder["violation_id"]
        await asyncio.sleep(2)
        assert not t.texts  # one a violation
    for terminal in (t, late):
        await terminal.close()


async def test_bad_texts_and_unknown_terminals(api, vehicles):
    plates, phones = vehicles
    phone = phones[plates[0]]
    for body in ({"text": ""}, {"text": "x" * 201}, {"text": "ok", "tts": "yes"}, {"text": "ok", "extra": 1}, {}):
        response = await api.call("POST", f"/v1/terminals/{phone}/messages", api.admin_token, json=body)
        assert response.status == 422, (body, response.status)
    for text in ("emoji 🚚", "\u20a9 won", "   "):
        response = await api.call("POST", f"/v1/terminals/{phone}/messages", api.admin_token, json={"text": text})
        assert response.status == 400, (text, response.status)
    assert (await api.call("POST", "/v1/terminals/19999999999/messages", api.admin_token,
                           json={"text": "hi"})).status == 404
    assert (await api.call("GET", "/v1/terminals/abc/messages", api.admin_token)).status == 400
    assert (await api.call("GET", "/v1/terminals/0000/messages", api.admin_token)).status == 404


async def test_a_text_nobody_takes_expires(api, vehicles):
    from tracker.db import messages

    plates, phones = vehicles
    phone = phones[plates[2]]
    await messages.create(api.client.app[POOL], phone, "过期", False, False, "test", ttl_s=1)
    await asyncio.sleep(1.2)
    _, listing = await api.json("GET", f"/v1/terminals/{phone}/messages", api.admin_token, expect=200)
    assert [(m["text"], m["state"]) for m in listing["items"]] == [("过期", "expired")]
    assert listing["items"][0]["done_at"].endswith("Z")


async def test_a_report_with_a_misread_safety_item_is_refused_and_dead_lettered(api, gateway, vehicles, settings,
                                                                               topics):
    from tracker.jt808.location import encode_location
    from tracker.jt808.messages import LOCATION, MALFORMED

    plates, phones = vehicles
    plate = plates[3]
    t = await signed_in(gateway, plate, phones[plate], "2013")
    body = encode_location(location(LAT0, LON0, now_ms() - 5_000)) + bytes((0x65, 40)) + bytes(40)  # 粤标-like length
    assert await t.result(LOCATION, body) == MALFORMED
    dead = await read_topic(settings.kafka_bootstrap, topics.deadletter, 1)
    assert "0x65" in dead[0][1]["error"] and dead[0][1]["frame_hex"]
    assert await t.report(location(LAT0, LON0, now_ms() - 4_000)) == 0  # the connection goes on
    await t.close()