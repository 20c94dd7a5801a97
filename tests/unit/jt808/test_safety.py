"""苏标 active-safety items 0x64 (ADAS) and 0x65 (DSM) in 0x0200: fields, the fix's
`active_safety` entries, round trips and refusals of any other length."""
from __future__ import annotations

import struct

import pytest
from hypothesis import given
from hypothesis import strategies as st

from streams.alarms import ALARM_BITS, BIT_OF, alarm_names, safety_type_name
from streams.times import now_ms
from tests.unit.jt808.support import FUZZ
from tracker.jt808 import DecodeError
from tracker.jt808.fixes import fix_item
from tracker.jt808.location import Location, decode_location, encode_location
from tracker.jt808.safety import SIZE, SafetyAlarm, decode_safety, encode_safety


def adas(alarm_id: int = 7, flag: int = 1, type_code: int = 1, level: int = 2, speed: int = 62) -> bytes:
    """An ADAS item as a terminal sends it: forward collision, level 2, at 62 km/h."""
    return struct.pack(">IBBB5sBHII6sH16s", alarm_id, flag, type_code, level, bytes([50, 12, 0, 0, 0]), speed, 8,
                       29_900_000, 121_800_000, bytes.fromhex("261205101530"), 3, b"T123456" + bytes(9))


def report(items: dict[int, bytes]) -> Location:
    return Location(0, 2, 29.9, 121.8, 8, 62.0, 90, now_ms() // 1000 * 1000, items)


def test_adas_and_dsm_items_become_the_fix_active_safety_entries():
    dsm = bytearray(adas(alarm_id=9, type_code=1, level=1, speed=40))
    loc = decode_location(encode_location(report({0x64: adas(), 0x65: bytes(dsm)})))
    assert [a.source for a in loc.safety_alarms] == ["adas", "dsm"]
    assert fix_item("浙B12345", loc)["active_safety"] == [
        {"source": "adas", "type": "forward_collision", "level": 2, "flag": 1, "speed_kmh": 62, "alarm_id": 7},
        {"source": "dsm", "type": "fatigue", "level": 1, "flag": 1, "speed_kmh": 40, "alarm_id": 9}]


def test_a_report_without_safety_items_has_no_active_safety():
    assert "active_safety" not in fix_item("浙B12345", report({0x01: bytes(4)}))


@pytest.mark.parametrize("item_id", [0x64, 0x65])
@pytest.mark.parametrize("size", [0, 1, 46, 48, 71, 255])
def test_any_other_length_is_refused_with_its_reason(item_id, size):
    body = encode_location(report({})) + bytes([item_id, size]) + bytes(size)
    with pytest.raises(DecodeError) as refused:
        decode_location(body)
    assert refused.value.reason == "bad_item_length" and f"0x{item_id:02x}" in refused.value.detail


def test_unnamed_types_keep_their_number():
    assert safety_type_name("adas", 0x21) == "adas_0x21" and safety_type_name("dsm", 3) == "smoking"


@FUZZ
@given(st.sampled_from([0x64, 0x65]), st.binary(min_size=SIZE, max_size=SIZE))
def test_any_47_bytes_decode_and_encode_back_unchanged(item_id, value):
    alarm = decode_safety(item_id, value)
    assert encode_safety(alarm) == value
    entry = alarm.as_fix_field()
    assert entry["level"] == value[6] and entry["flag"] == value[4] and entry["speed_kmh"] == value[12]


@FUZZ
@given(st.dictionaries(st.sampled_from([0x64, 0x65]), st.binary(min_size=SIZE, max_size=SIZE), max_size=2))
def test_reports_with_safety_items_round_trip(items):
    body = encode_location(report(items))
    loc = decode_location(body)
    assert encode_location(loc) == body
    assert [encode_safety(a) for a in loc.safety_alarms] == [items[i] for i in (0x64, 0x65) if i in items]
    assert all(isinstance(a, SafetyAlarm) for a in loc.safety_alarms)


@FUZZ
@given(st.integers(0, 2**32 - 1))
def test_alarm_names_equal_testing_each_bit(flags):
    assert alarm_names(flags) == [ALARM_BITS[b] for b in range(32) if flags & (1 << b)]
    assert sum(1 << BIT_OF[name] for name in alarm_names(flags)) == flags
