"""The JT/T 808 gateway over real TCP connections, against the real broker and PostGIS:
terminals of both header versions register, authenticate and report; the fixes are read
back from the topic, the stored track and the violation they cause; bad frames, strangers,
takeovers and limits."""
from __future__ import annotations

import asyncio
import random
import time

import pytest
from prometheus_client import REGISTRY

from tests.client import fleet_body
from tests.contracts import validate
from tests.gateway import start_gateway
from tests.topic import read_topic, topic_is_empty
from tests.waiting import until
from tracker.api.context import POOL
from tracker.dev.terminal import Terminal, TerminalError, location
from tracker.jt808.location import encode_location
from tracker.jt808.messages import BATCH, HEARTBEAT, LOCATION, RETRANSMIT_REQUEST, decode_general_response

pytestmark = pytest.mark.integration

LAT0, LON0 = 29.90, 121.80
M_LAT, M_LON = 1 / 110_574, 1 / 96_400  # metres to degrees near 29.9 N


def now_ms() -> int:
    return int(time.time() * 1000)


def counter(name: str, **labels) -> float:
    return REGISTRY.get_sample_value(name, labels) or 0.0


@pytest.fixture
async def vehicles(api):
    """The test fleet's four vehicles, each with a terminal phone: plate -> phone (11 digits)."""
    fleet, body = fleet_body()
    base = random.randrange(10**9, 9 * 10**9)
    phones = {}
    for n, vehicle in enumerate(body["vehicles"]):
        vehicle["terminal_phone"] = phones[vehicle["plate"]] = f"1{base + n:010d}"
    await api.json("PUT", "/v1/registry", api.admin_token, expect=200, json=body)
    return fleet, phones


def padded(phone: str, version: str) -> str:
    """The BCD digits a terminal sends: 12 (2013) or 20 (2019), leading zeros."""
    return phone.rjust(12 if version == "2013" else 20, "0")


async def terminal(gateway, phone: str, version: str = "2013") -> Terminal:
    return await Terminal(padded(phone, version), version).connect("127.0.0.1", gateway.port)


async def signed_in(gateway, plate: str, phone: str, version: str = "2013") -> Terminal:
    t = await terminal(gateway, phone, version)
    result, code = await t.register(plate)
    assert result == 0 and code
    assert await t.authenticate(code) == 0
    return t


async def listed(api, phone: str) -> dict | None:
    _, body = await api.json("GET", "/v1/terminals", api.admin_token, expect=200)
    for item in body["items"]:
        validate("terminal.schema.json", item)
    return next((item for item in body["items"] if item["phone"] == phone), None)


async def test_both_versions_register_authenticate_and_report_fixes_as_http_does(api, gateway, vehicles, settings,
                                                                                 topics):
    fleet, phones = vehicles
    plates = fleet.plates[fleet.carriers[0]]
    ts = now_ms() // 1000 * 1000 - 5000
    sent = {}
    for plate, version in zip(plates, ("2013", "2019")):
        t = await signed_in(gateway, plate, phones[plate], version)
        loc = location(LAT0, LON0, ts, speed_kmh=42.5, heading_deg=91, alt_m=12, alarm_flags=2, sats=11,
                       mileage_km=1234.5)
        assert await t.report(loc) == 0
        sent[plate] = (t, loc)
        entry = await listed(api, phones[plate])
        assert entry["plate"] == plate and entry["header_version"] == version
        assert entry["connected"] and entry["authenticated"] and entry["remote_address"].startswith("127.0.0.1:")
        _, details = await api.json("GET", f"/v1/vehicles/{plate}", api.admin_token, expect=200)
        assert details["terminal"] == entry  # the console's details panel shows the terminal's state
    fixes = await read_topic(settings.kafka_bootstrap, topics.fixes, 2)
    assert {k for k, _ in fixes} == set(plates)
    for plate, fix in fixes:
        validate("normalised_fix.schema.json", fix)
        loc = sent[plate][1]
        assert fix == {"plate": plate, "ts": ts, "lat": LAT0, "lon": LON0, "speed_kmh": 42.5, "heading_deg": 91,
                       "alt_m": 12, "alarm_flags": 2, "sats": 11, "status_flags": loc.status_flags,
                       "mileage_km": 1234.5, "carrier_id": fleet.carriers[0], "source": "jt808",
                       "received_at": fix["received_at"]}
    for t, _ in sent.values():
        await t.close()

    async def disconnected():
        return not (await listed(api, phones[plates[0]]))["connected"] or None

    await until(disconnected, 10)


async def test_registration_codes_logout_and_refusals(api, gateway, vehicles):
    fleet, phones = vehicles
    mine, other = fleet.plates[fleet.carriers[0]]
    t = await terminal(gateway, phones[mine])
    result, first = await t.register("")  # a body without a plate names none
    assert result == 0
    result, second = await t.register(mine)  # a re-registration: a new code, the old one stops working
    assert result == 0 and second != first
    assert await t.authenticate(first) == 1
    assert await t.authenticate(second) == 0
    assert await t.logout() == 0  # the code stops working: register again
    assert await t.authenticate(second) == 1
    assert (await t.register(other))[0] == 2  # the plate of another vehicle
    stranger = await terminal(gateway, "19999999999")
    assert await stranger.register(mine) == (4, None)  # no vehicle has this phone
    assert await stranger.logout() == 1  # not authenticated as it
    await t.close()
    await stranger.close()


async def test_an_unauthenticated_terminal_leaves_no_trace(api, gateway, vehicles, settings, topics):
    fleet, phones = vehicles
    plate = fleet.plates[fleet.carriers[1]][0]
    t = await terminal(gateway, phones[plate], "2019")
    loc = location(LAT0, LON0, now_ms() - 2000, speed_kmh=30)
    assert await t.report(loc) == 1
    assert await t.batch(0, [loc, loc]) == 1
    assert await t.heartbeat() == 0
    assert await t.authenticate("guessed-code") == 1
    assert await t.report(loc) == 1
    await t.close()
    assert await listed(api, phones[plate]) is None
    assert await topic_is_empty(settings.kafka_bootstrap, topics.fixes)
    assert await topic_is_empty(settings.kafka_bootstrap, topics.deadletter, wait_s=0.5)


async def test_blind_area_batch_merged_and_split_frames_and_unpositioned_reports(api, gateway, vehicles, settings,
                                                                                   topics):
    fleet, phones = vehicles
    plate = fleet.plates[fleet.carriers[1]][1]
    t = await signed_in(gateway, plate, phones[plate], "2019")
    t0 = now_ms() // 1000 * 1000 - 600_000
    tunnel = [location(LAT0, LON0 + 0.001 * n, t0 + 10_000 * n, speed_kmh=36) for n in range(5)]
    assert await t.batch(1, tunnel) == 0  # blind-area back-fill
    # two reports in one write, then one split over two writes
    a, b, c = (location(LAT0, LON0 + 0.01 + 0.001 * n, t0 + 100_000 + 10_000 * n, speed_kmh=36) for n in range(3))
    first, second = t.frame(LOCATION, encode_location(a)), t.frame(LOCATION, encode_location(b))
    await t.send_raw(first + second)
    replies = [decode_general_response(await t.next_frame()) for _ in range(2)]
    assert [(r.reply_msg_id, r.result) for r in replies] == [(LOCATION, 0), (LOCATION, 0)]
    third = t.frame(LOCATION, encode_location(c))
    await t.send_raw(third[:7])
    await asyncio.sleep(0.3)
    await t.send_raw(third[7:])
    assert decode_general_response(await t.next_frame()).result == 0
    seen_before = (await listed(api, phones[plate]))["last_seen_at"]
    await asyncio.sleep(1.1)
    assert await t.report(location(0, 0, now_ms(), positioned=False, sats=0)) == 0  # on, but no fix

    async def seen_again():
        return (await listed(api, phones[plate]))["last_seen_at"] > seen_before or None

    await until(seen_again, 10)
    fixes = await read_topic(settings.kafka_bootstrap, topics.fixes, 8)
    assert sorted(f["ts"] for _, f in fixes) == [loc.ts_ms for loc in tunnel] + [a.ts_ms, b.ts_ms, c.ts_ms]
    assert await topic_is_empty(settings.kafka_bootstrap, topics.deadletter, wait_s=0.5)
    await t.close()


async def test_garbage_bad_checksums_unknown_ids_and_bad_positions(api, gateway, vehicles, settings, topics):
    fleet, phones = vehicles
    plate = fleet.plates[fleet.carriers[0]][1]
    t = await signed_in(gateway, plate, phones[plate])
    good = t.frame(HEARTBEAT, b"")
    while True:  # a frame whose checksum is a plain byte, so flipping a bit keeps it one
        corrupt = bytearray(t.frame(HEARTBEAT, b""))
        if corrupt[-3] != 0x7D and corrupt[-2] not in (0x7C, 0x7F):
            break
    corrupt[-2] ^= 0x01
    corrupt_serial = t.serial - 1
    await t.send_raw(b"\x7e\x01\x02\x03\x7e" + bytes(corrupt))
    answer = decode_general_response(await t.next_frame())
    assert (answer.reply_serial, answer.reply_msg_id, answer.result) == (corrupt_serial, HEARTBEAT, 2)
    await t.send_raw(good)
    assert decode_general_response(await t.next_frame()).result == 0  # still open
    assert await t.result(0x0F0F, b"\x01") == 3  # unknown message id
    bad = location(LAT0, LON0, now_ms() + 3_600_000, speed_kmh=20)  # an hour ahead
    assert await t.report(bad) == 0  # taken, refused as a fix: dead-lettered
    dead = await read_topic(settings.kafka_bootstrap, topics.deadletter, 3)
    for _, record in dead:
        validate("deadletter.schema.json", record)
        assert record["source"] == "jt808" and record["frame_hex"]
    by_error = {record["error"].split(":")[0]: (key, record) for key, record in dead}
    assert by_error["bad_checksum"][1]["frame_hex"] == bytes(corrupt).hex()
    assert by_error["bad_checksum"][0] == plate
    assert by_error["truncated"][1]["input"] is None
    future = next(r for _, r in dead if "future" in r["error"])
    assert future["input"]["plate"] == plate and future["input"]["ts"] == bad.ts_ms // 1000 * 1000  # whole seconds
    assert await topic_is_empty(settings.kafka_bootstrap, topics.fixes)
    await t.close()


async def test_a_terminal_reconnecting_elsewhere_takes_its_session_over(api, gateway, vehicles, settings):
    fleet, phones = vehicles
    plate = fleet.plates[fleet.carriers[0]][0]
    old = await signed_in(gateway, plate, phones[plate])
    _, code = await old.register(plate)
    assert await old.authenticate(code) == 0
    # a second gateway process (another pod) with its own connection to the database
    elsewhere, stop = await start_gateway(settings)
    try:
        new = await terminal(elsewhere, phones[plate], "2019")
        assert await new.authenticate(code) == 0
        with pytest.raises((TerminalError, ConnectionError)):  # the old gateway hears of it (NOTIFY) and closes its connection
            async with asyncio.timeout(10):
                while True:
                    await old.heartbeat()
                    await asyncio.sleep(0.1)
        entry = await listed(api, phones[plate])
        assert entry["connected"] and entry["authenticated"] and entry["header_version"] == "2019"
        assert await new.report(location(LAT0, LON0, now_ms() - 1000, speed_kmh=10)) == 0
        await new.close()
        await old.close()
    finally:
        await stop()


async def test_limits_close_the_connection_and_are_counted(api, settings, vehicles):
    gateway, stop = await start_gateway(settings, frames_per_s=5, idle_s=1, subpackage_timeout_s=1)
    try:
        fleet, phones = vehicles
        plate = fleet.plates[fleet.carriers[1]][0]
        before = {r: counter("hazmat_jt808_refusals_total", reason=r) for r in ("rate", "frame_size", "buffer", "idle")}

        t = await terminal(gateway, phones[plate])
        await t.send_raw(b"".join(t.frame(HEARTBEAT, b"") for _ in range(10)))
        await _closed(t)

        t = await terminal(gateway, phones[plate])
        await t.send_raw(b"\x7e" + b"\x01" * 3000 + b"\x7e")
        await _closed(t)

        t = await terminal(gateway, phones[plate])
        await t.send_raw(b"\x7e" + b"\x01" * 70_000)
        await _closed(t)

        t = await terminal(gateway, phones[plate])
        await _closed(t)  # idle

        for reason in before:
            assert counter("hazmat_jt808_refusals_total", reason=reason) == before[reason] + 1, reason
    finally:
        await stop()


async def _closed(t: Terminal) -> None:
    with pytest.raises((TerminalError, ConnectionError)):
        while True:
            await t.next_frame(timeout_s=5)
    await t.close()


async def test_subpackages_are_answered_reassembled_and_asked_for_again(api, settings, vehicles, topics):
    gateway, stop = await start_gateway(settings, subpackage_timeout_s=1)
    try:
        fleet, phones = vehicles
        plate = fleet.plates[fleet.carriers[1]][1]
        t = await signed_in(gateway, plate, phones[plate])
        body = encode_location(location(LAT0, LON0, now_ms() - 3000, speed_kmh=20))
        halves = body[:20], body[20:]
        first = t.serial
        for index, half in enumerate(halves, 1):
            await t.send_raw(t.frame(LOCATION, half, subpackage=(2, index)))
            answer = decode_general_response(await t.next_frame())
            assert (answer.reply_serial, answer.result) == (first + index - 1, 0)
        fixes = await read_topic(settings.kafka_bootstrap, topics.fixes, 1)
        assert fixes[0][0] == plate
        # packet 1 of 3 only: the rest is asked for with 0x8003
        start = t.serial
        await t.send_raw(t.frame(BATCH, b"\x00\x01\x00", subpackage=(3, 1)))
        assert decode_general_response(await t.next_frame()).result == 0
        request = await t.next_frame(timeout_s=10)
        assert request.msg_id == RETRANSMIT_REQUEST
        assert request.body == start.to_bytes(2, "big") + bytes((2,)) + b"\x00\x02\x00\x03"
        await t.close()
    finally:
        await stop()


async def test_reports_become_the_stored_track_and_a_violation(api, gateway, vehicles, settings, topics, worker):
    fleet, phones = vehicles
    plate = fleet.plates[fleet.carriers[0]][1]
    t = await signed_in(gateway, plate, phones[plate], "2019")
    t0 = now_ms() // 1000 * 1000 - 900_000
    # 90 km/h (25 m/s) eastwards for 60 s on a 60 km/h road, then 40 km/h: speeding opened and closed
    for s in range(0, 121, 10):
        speed = 90 if s <= 60 else 40
        east = 25 * min(s, 60) + 11 * max(0, s - 60)
        assert await t.report(location(LAT0, LON0 + east * M_LON, t0 + s * 1000, speed_kmh=speed,
                                       heading_deg=90)) == 0

    async def speeding():
        _, page = await api.json("GET", f"/v1/violations?plate={plate}&kind=speeding", api.admin_token, expect=200)
        return page["items"] or None

    [violation] = await until(speeding, 40)
    assert violation["details"]["max_speed_kmh"] == 90 and violation["carrier_id"] == fleet.carriers[0]
    _, track = await api.json("GET", f"/v1/vehicles/{plate}/track?from={t0 - 1000}&to={t0 + 200_000}",
                              api.admin_token, expect=200)
    assert len(track["properties"]["times"]) == 13
    rows = await api.client.app[POOL].fetch("SELECT DISTINCT source FROM positions WHERE plate = $1", plate)
    assert [r["source"] for r in rows] == ["jt808"]
    await t.close()


async def test_metrics_count_frames_replies_and_connected_terminals(api, gateway, vehicles):
    fleet, phones = vehicles
    plate = fleet.plates[fleet.carriers[0]][0]
    frames = counter("hazmat_jt808_frames_total", msg_id="0x0102")
    replies = counter("hazmat_jt808_replies_total", msg_id="0x8001", result="0")
    connected = counter("hazmat_jt808_connected_terminals")
    t = await terminal(gateway, phones[plate])
    _, code = await t.register(plate)
    assert await t.authenticate(code) == 0
    assert await t.authenticate(code) == 0  # again on the same connection: still one terminal
    assert counter("hazmat_jt808_frames_total", msg_id="0x0102") == frames + 2
    assert counter("hazmat_jt808_replies_total", msg_id="0x8001", result="0") == replies + 2
    assert counter("hazmat_jt808_connected_terminals") == connected + 1
    text = await (await api.call("GET", "/metrics")).text()
    assert "hazmat_jt808_connected_terminals" in text
    await t.close()
    await until(lambda: _async(counter("hazmat_jt808_connected_terminals") == connected), 10)


async def _async(value):
    return value


async def test_two_vehicles_cannot_hold_one_terminal_whatever_its_leading_zeros(api, vehicles):
    fleet, phones = vehicles
    first = fleet.plates[fleet.carriers[0]][0]
    _, body = fleet_body()
    vehicle = dict(body["vehicles"][0], carrier_id=body["carriers"][0]["id"], terminal_phone="0" + phones[first])
    status, problem = await api.json("PUT", "/v1/registry", api.admin_token,
                                     json={"carriers": body["carriers"][:1], "vehicles": [vehicle]})
    assert status == 409, problem
    validate("problem.schema.json", problem)
