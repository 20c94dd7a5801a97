"""JT/T 809 platform links over real TCP, against the real broker and PostGIS: carriers'
platforms of both versions, plain and encrypted, log in (or are refused with the right
result), their real-time and back-filled positions become the stored track once and are
judged by the rules; foreign plates, garbage, broken frames and password guessing are
refused and dead-lettered, and the server goes on."""
from __future__ import annotations

import asyncio
import time
import uuid

import pytest
from prometheus_client import REGISTRY

from tests.contracts import validate
from tests.platforms import KEYS, connected, register_platform, start_server
from tests.topic import read_topic
from tests.waiting import until
from tracker.api.context import POOL
from tracker.dev.platform import position
from tracker.jt809.framing import escape, unescape
from tracker.jt809.messages import DYNAMIC, HEARTBEAT, HEARTBEAT_RESPONSE, LOGIN, Login, encode_login
from tracker.jt809.positions import encode_real_time
from tracker.jt809.vehicle import Registration, encode_registration

pytestmark = pytest.mark.integration

LAT0, LON0 = 29.90, 121.80
M_LON = 1 / 96_400  # metres to degrees of longitude near 29.9 N
VARIANTS = [("2011", None), ("2019", None), ("2011", KEYS), ("2019", KEYS)]


def now_ms() -> int:
    return int(time.time() * 1000)


def counter(name: str, **labels) -> float:
    return REGISTRY.get_sample_value(name, labels) or 0.0


@pytest.fixture
async def server(settings):
    server, stop = await start_server(settings)
    yield server
    await stop()


def pid() -> str:
    return f"p-{uuid.uuid4().hex[:8]}"


async def link_of(api, platform_id: str) -> dict:
    _, body = await api.json("GET", "/v1/platforms", api.admin_token, expect=200)
    item = next(i for i in body["items"] if i["id"] == platform_id)
    validate("platform.schema.json", item)
    return item["link"]


@pytest.mark.parametrize("version, keys", VARIANTS, ids=["2011", "2019", "2011-encrypted", "2019-encrypted"])
async def test_login_results(api, fleet, server, version, keys):
    account = await register_platform(api, platform := pid(), [fleet.carriers[0]], keys=keys,
                                      allowed_ips=["127.0.0.1", "::1"])
    wrong = await connected(server, account, version, keys)
    assert await wrong.login(password="nope") == 4
    assert await wrong.login(password=account["password"]) == 0  # the same link, now right
    await wrong.heartbeat()
    stranger = await connected(server, account, version, keys, access_code=(account["access_code"] + 1) % 2**32)
    assert await stranger.login() == 2
    unknown = await connected(server, account, version, keys, user_id=(account["user_id"] + 1) % 2**32)
    assert await unknown.login() == 3

    async def up():
        link = await link_of(api, platform)
        return link if link["connected"] and link["frames"] >= 1 else None

    link = await until(up, 10)
    assert link["version"] == version and link["remote_address"].startswith("127.0.0.1:")
    await wrong.logout()
    assert await wrong.closed()
    for p in (wrong, stranger, unknown):
        await p.close()

    async def down():
        link = await link_of(api, platform)
        return link if not link["connected"] and link["disconnected_at"] else None

    await until(down, 10)


async def test_an_address_not_allowed_and_a_configured_version_are_enforced(api, fleet, server):
    elsewhere = await register_platform(api, pid(), [fleet.carriers[0]], allowed_ips=["192.0.2.7"])
    p = await connected(server, elsewhere)
    assert await p.login() == 1
    only_2019 = await register_platform(api, pid(), [fleet.carriers[0]], version="2019")
    p2 = await connected(server, only_2019, "2011")
    assert await p2.login() == 6
    for p in (p, p2):
        await p.close()


@pytest.mark.parametrize("version, keys", VARIANTS, ids=["2011", "2019", "2011-encrypted", "2019-encrypted"])
async def test_positions_become_the_track_once_and_are_judged(api, fleet, server, settings, worker, version, keys):
    account = await register_platform(api, pid(), [fleet.carriers[0]], keys=keys)
    plate = fleet.plates[fleet.carriers[0]][1]
    p = await connected(server, account, version, keys)
    assert await p.login() == 0
    t0 = now_ms() // 1000 * 1000 - 900_000
    # 90 km/h (25 m/s) eastwards for 60 s on a 60 km/h road, then 40 km/h: speeding opened and closed.
    track = [position(plate, LAT0, LON0 + (25 * min(s, 60) + 11 * max(0, s - 60)) * M_LON, t0 + s * 1000,
                      speed_kmh=90 if s <= 60 else 40, heading_deg=90) for s in range(0, 121, 10)]
    for pos in track[:3] + track[8:]:
        await p.real_time(pos)
    await p.backfill(track[3:8])  # after an outage: five at once
    await p.real_time(track[-1])  # the same position again: still once on the track
    await p.heartbeat()

    async def speeding():
        _, page = await api.json("GET", f"/v1/violations?plate={plate}&kind=speeding", api.admin_token, expect=200)
        return page["items"] or None

    [violation] = await until(speeding, 40)
    assert violation["details"]["max_speed_kmh"] == 90 and violation["carrier_id"] == fleet.carriers[0]

    async def whole_track():
        _, body = await api.json("GET", f"/v1/vehicles/{plate}/track?from={t0 - 1000}&to={t0 + 200_000}",
                                 api.admin_token, expect=200)
        return body if len(body["properties"]["times"]) >= 13 else None

    body = await until(whole_track, 20)
    assert len(body["properties"]["times"]) == 13 == len(set(body["properties"]["times"]))
    rows = await api.client.app[POOL].fetch("SELECT DISTINCT source FROM positions WHERE plate = $1", plate)
    assert [r["source"] for r in rows] == ["jt809"]
    await p.close()


async def test_a_foreign_plate_is_refused_and_dead_lettered(api, fleet, server, settings, topics):
    account = await register_platform(api, pid(), [fleet.carriers[0]])
    ours, foreign = fleet.plates[fleet.carriers[0]][0], fleet.plates[fleet.carriers[1]][0]
    p = await connected(server, account, "2019")
    assert await p.login() == 0
    published = counter("hazmat_jt809_fixes_total", outcome="published")
    ts = now_ms() - 5000
    await p.real_time(position(ours, LAT0, LON0, ts, speed_kmh=30))
    foreign_frame = p.frame(DYNAMIC, encode_real_time(position(foreign, LAT0, LON0, ts, speed_kmh=30), "2019"))
    await p.send_raw(foreign_frame)
    await p.heartbeat()
    [(key, fix)] = await read_topic(settings.kafka_bootstrap, topics.fixes, 1)
    validate("normalised_fix.schema.json", fix)
    assert key == ours and fix["source"] == "jt809" and fix["carrier_id"] == fleet.carriers[0]
    assert fix["status_flags"] == 3 and fix["mileage_km"] == 1000.0
    [(key, dead)] = await read_topic(settings.kafka_bootstrap, topics.deadletter, 1)
    validate("deadletter.schema.json", dead)
    assert key == foreign and dead["source"] == "jt809" and "no carrier of platform" in dead["error"]
    assert dead["frame_hex"] == foreign_frame.hex()
    assert counter("hazmat_jt809_fixes_total", outcome="published") == published + 1
    await p.close()


def bad_crc(wire: bytes) -> bytes:
    """The frame with one bit of its CRC flipped."""
    content = unescape(wire[1:-1])
    return b"\x5b" + escape(content[:-2] + bytes((content[-2] ^ 0x01, content[-1]))) + b"\x5d"


async def test_hostile_input_never_stops_the_server(api, fleet, settings, topics):
    server, stop = await start_server(settings, max_frame_bytes=1024)
    try:
        account = await register_platform(api, pid(), [fleet.carriers[0]])
        p = await connected(server, account)
        await p.send(HEARTBEAT, b"")  # before a login: dead-lettered, not answered
        login = encode_login(Login(p.user_id, p.password, "127.0.0.1", 0), "2011")
        await p.send_raw(bad_crc(p.frame(LOGIN, login)))  # dead-lettered without the password
        assert await p.login() == 0
        good = p.frame(HEARTBEAT, b"")
        corrupt = bad_crc(p.frame(HEARTBEAT, b""))
        await p.send_raw(b"garbage\x5d\x5b\x00\x01" + corrupt + good[:7])  # junk, a cut frame, a bad CRC
        await p.send_raw(good[7:])  # the rest of a frame split over two writes
        assert (await p.expect(HEARTBEAT_RESPONSE)).msg_id == HEARTBEAT_RESPONSE  # the link stays
        dead = await read_topic(settings.kafka_bootstrap, topics.deadletter, 4)
        errors = sorted(record["error"].split(":")[0] for _, record in dead)
        assert errors == ["bad_crc", "bad_crc", "not_logged_in", "unframed"], errors
        assert not any(p.password.encode().hex() in record["frame_hex"] for _, record in dead)
        assert all(record["source"] == "jt809" and record["frame_hex"] for _, record in dead)
        # A frame claiming 4 GB: the length field is believed by nobody, the size limit closes the link.
        huge = await connected(server, account)
        await huge.send_raw(b"\x5b" + (0xFFFFFFFF).to_bytes(4, "big") + b"\x00" * 4096 + b"\x5d")
        assert await huge.closed()
        await huge.close()
        endless = await connected(server, account)  # ... and one that never ends: the buffer limit
        await endless.send_raw(b"\x5b" + (0xFFFFFFFF).to_bytes(4, "big") + b"\x00" * 70_000)
        assert await endless.closed()
        await endless.close()
        # Random bytes on fresh links.
        for n in range(20):
            junk = await connected(server, account)
            await junk.send_raw(uuid.uuid4().bytes * (n + 1) + b"\x5b\x5d\x5a\x5e")
            await junk.close()
        again = await connected(server, account)
        assert await again.login() == 0
        await again.heartbeat()
        for c in (p, again):
            await c.close()
    finally:
        await stop()


async def test_a_thousand_wrong_passwords_are_each_refused(api, fleet, settings):
    server, stop = await start_server(settings, max_login_failures=5)
    try:
        account = await register_platform(api, pid(), [fleet.carriers[0]])
        refusals = counter("hazmat_jt809_refusals_total", reason="wrong_password")
        results = []

        async def guesser(n: int) -> None:
            p = await connected(server, account)
            for k in range(5):
                results.append(await p.login(password=f"g{n}-{k}"[:8]))
            assert await p.closed()  # five wrong ones: the link is closed
            await p.close()

        for start in range(0, 200, 20):
            await asyncio.gather(*(guesser(n) for n in range(start, start + 20)))
        assert results == [4] * 1000
        assert counter("hazmat_jt809_refusals_total", reason="wrong_password") == refusals + 1000
        right = await connected(server, account)
        assert await right.login() == 0
        await right.close()
    finally:
        await stop()


async def test_metrics_count_links_frames_logins_and_registrations(api, fleet, server):
    account = await register_platform(api, pid(), [fleet.carriers[0]])
    links = counter("hazmat_jt809_links")
    logins = counter("hazmat_jt809_logins_total", result="0")
    registrations = counter("hazmat_jt809_registrations_total")
    p = await connected(server, account, "2019")
    assert await p.login() == 0
    reg = Registration(fleet.plates[fleet.carriers[0]][0], 2, "P1", "M1", "HZ-100", "T1", "13900000000", "8600")
    await p.send(DYNAMIC, encode_registration(reg, "2019"))
    await p.heartbeat()
    assert counter("hazmat_jt809_links") == links + 1
    assert counter("hazmat_jt809_logins_total", result="0") == logins + 1
    assert counter("hazmat_jt809_registrations_total") == registrations + 1
    assert counter("hazmat_jt809_frames_total", msg_id="0x1005") >= 1
    # The same platform logging in on another connection takes the link over.
    again = await connected(server, account, "2019")
    assert await again.login() == 0
    assert await p.closed()
    assert counter("hazmat_jt809_links") == links + 1
    await again.heartbeat()
    for c in (p, again):
        await c.close()
    await until(lambda: asyncio.sleep(0.05, counter("hazmat_jt809_links") == links), 5)
