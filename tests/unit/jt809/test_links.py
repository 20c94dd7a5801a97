"""The pure halves of the platform links: a Link splits any bytes into frames or a Close
for a passed limit and never raises; the forwarding turns fixes and violation events into
bodies the codec reads back."""
from __future__ import annotations

from hypothesis import given
from hypothesis import strategies as st

from streams.times import now_ms, rfc3339
from tests.unit.jt809.support import FUZZ
from tracker.jt809.alarms import OVERSPEED, decode_alarm
from tracker.jt809.codec import decode, encode
from tracker.jt809.crypto import Keys
from tracker.jt809.forward import alarm_body, fix_body
from tracker.jt809.handlers import address_allowed
from tracker.jt809.links import Close, Link, Platform
from tracker.jt809.messages import ALARM, DYNAMIC, HEARTBEAT
from tracker.jt809.positions import decode_positions
from tracker.settings import Jt809Limits

LIMITS = Jt809Limits(max_frame_bytes=256, max_buffer_bytes=4096, frames_per_s=50)


@FUZZ
@given(st.lists(st.binary(max_size=600), max_size=20))
def test_any_bytes_give_frames_or_a_close_and_never_raise(chunks):
    link = Link(LIMITS)
    for n, chunk in enumerate(chunks):
        for item in link.receive(chunk, n):
            assert isinstance(item, (bytes, Close))
            if isinstance(item, bytes):
                assert item[0] == 0x5B and len(item) <= LIMITS.max_frame_bytes


def test_limits_close_the_link():
    frame = encode(HEARTBEAT, b"", version="2011", serial=1, access_code=7)
    assert Link(LIMITS).receive(frame * 51, 0)[-1] == Close("rate")
    over = Link(LIMITS).receive(b"\x5b" + b"\x00" * 300 + b"\x5d", 0)
    assert over[-1].reason == "frame_size" and over[-1].raw.startswith(b"\x5b")
    assert Link(LIMITS).receive(b"\x5b" + b"\x00" * 5000, 0)[-1].reason == "buffer"


def test_answers_are_in_the_links_layout_and_keys():
    link, keys = Link(LIMITS), Keys(5, 6, 7)
    link.version, link.platform = "2019", Platform("p", frozenset({"C"}), 99, keys)
    now_s = now_ms() // 1000
    frame = decode(link.answer(HEARTBEAT, b"", now_s), "2019", keys)
    assert (frame.access_code, frame.encrypted, frame.time_s) == (99, True, now_s)


def test_a_fix_goes_up_as_a_real_time_position():
    ts = now_ms() // 1000 * 1000
    fix = {"plate": "浙B12345", "ts": ts + 500, "lat": 29.9, "lon": 121.8, "speed_kmh": 42.4,
           "heading_deg": 359.7, "alt_m": 5.2, "status_flags": 3, "mileage_km": 12.0}
    for version in ("2011", "2019"):
        wire = encode(DYNAMIC, fix_body(fix, version), version=version, serial=1, access_code=1, time_s=1)
        [p] = decode_positions(decode(wire, version))
        assert (p.plate, p.ts_ms, p.lat, p.lon, p.heading_deg, p.gcj02) == ("浙B12345", ts, 29.9, 121.8, 0, False)


def test_only_opened_high_violations_go_up_as_alarms():
    started_s = now_ms() // 1000 - 60
    data = {"violation_id": "v-1", "kind": "speeding", "plate": "浙B12345", "started_at": rfc3339(started_s * 1000),
            "severity": "high", "lat": 29.9, "lon": 121.8}
    event = {"type": "hazmat.violation.opened", "data": data}
    wire = encode(ALARM, alarm_body(event, "2011"), version="2011", serial=1, access_code=1)
    alarm = decode_alarm(decode(wire, "2011"))
    assert (alarm.plate, alarm.warn_type, alarm.warn_time_s) == ("浙B12345", OVERSPEED, started_s)
    assert alarm_body({**event, "type": "hazmat.violation.closed"}, "2011") is None
    assert alarm_body({**event, "data": {**data, "severity": "medium"}}, "2019") is None


def test_addresses_are_compared_as_addresses():
    assert address_allowed("127.0.0.1:5000", ["127.0.0.1"])
    assert address_allowed("[::ffff:127.0.0.1]:5000", ["127.0.0.1"])
    assert address_allowed("::1:5000", ["0:0::1"])
    assert not address_allowed("127.0.0.2:5000", ["127.0.0.1"])
    assert not address_allowed("garbage", ["127.0.0.1"])
