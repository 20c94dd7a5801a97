"""0x0200 and 0x0704 bodies of the public frames, field by field."""
from __future__ import annotations

from dataclasses import replace

import pytest

from tests.unit.jt808.support import GOOD, QUIRKS, beijing_ms, expected, wire
from tracker.jt808 import DecodeError, decode
from tracker.jt808.location import Location, decode_batch, decode_location, encode_batch, encode_location

LOCATIONS = [v for v in GOOD + QUIRKS if v["msg_id"] == "0x0200"]
BATCHES = [v for v in GOOD if v["msg_id"] == "0x0704"]


def assert_location(loc: Location, want: dict) -> None:
    assert (loc.alarm_flags, loc.status_flags) == (want["alarm_flags"], want["status_flags"])
    assert (loc.lat, loc.lon) == (want["lat_deg_signed"], want["lon_deg_signed"])
    assert (loc.alt_m, loc.speed_kmh, loc.heading_deg) == (want["altitude_m"], want["speed_kmh"],
                                                           want["direction_deg"])
    assert loc.ts_ms == beijing_ms(want["time_gmt8"])
    assert [(f"0x{k:02X}", v.hex()) for k, v in loc.items.items()] == [(i["id"], i["hex"]) for i in
                                                                        want["additional"]]
    items = {item["id"]: item for item in want["additional"]}
    assert loc.mileage_km == (items["0x01"]["mileage_0.1km"] / 10 if "0x01" in items else None)
    assert loc.sats == (items["0x31"]["gnss_satellites"] if "0x31" in items else None)
    assert loc.positioned == (1 in want["status_bits_set"])


@pytest.mark.parametrize("vector", LOCATIONS, ids=lambda v: v["id"])
def test_location_fields_and_reencoding(vector):
    body = decode(bytes.fromhex(vector["hex"]), quirks_allowed=True).body
    loc = decode_location(body)
    assert_location(loc, expected(vector)["body"])
    assert encode_location(loc) == body


@pytest.mark.parametrize("vector", BATCHES, ids=lambda v: v["id"])
def test_batch_fields_and_reencoding(vector):
    body = decode(bytes.fromhex(vector["hex"])).body
    batch = decode_batch(body)
    want = expected(vector)["body"]
    assert batch.kind == want["type"]
    for loc, item in zip(batch.locations, want["items"], strict=True):
        assert_location(loc, item)
    assert encode_batch(batch.kind, batch.locations) == body


def test_signs_come_from_the_status_bits():
    south = decode_location(decode(wire("0200_hylexus_2019")).body)
    west = decode_location(decode(wire("0200_traccar_real_alarm")).body)
    assert (south.lat, west.lon) == (-31.234567, -1.255923)


def test_impossible_coordinates_are_flagged_not_refused():
    loc = decode_location(decode(wire("0200_go_2013_escape_in_lat")).body)
    assert loc.lat == 119.552894
    assert loc.out_of_range == ("lat",)
    good = decode_location(decode(wire("0200_smallchi_2013")).body)
    assert good.out_of_range == ()


def test_a_report_without_a_fix_says_so():
    loc = decode_location(decode(wire("0200_hylexus_2019_device")).body)
    assert (loc.positioned, loc.sats) == (False, 0)


BODY = decode(wire("0200_smallchi_2013")).body


@pytest.mark.parametrize(("bcd", "why"), [
    ("000000000000", "month 0"), ("181315101010", "month 13"), ("180230101010", "30 February"),
    ("180715241010", "hour 24"), ("180715106010", "minute 60"), ("180715101060", "second 60"),
    ("1807151010a0", "hex nibble"),
])
def test_a_time_that_is_no_date_is_refused(bcd, why):
    with pytest.raises(DecodeError) as refused:
        decode_location(BODY[:22] + bytes.fromhex(bcd) + BODY[28:])
    assert refused.value.reason == "bad_time", why


def test_a_body_shorter_than_the_fixed_part_is_refused():
    with pytest.raises(DecodeError) as refused:
        decode_location(BODY[:27])
    assert refused.value.reason == "bad_body_length"


def test_a_batch_whose_count_disagrees_is_refused():
    body = decode(wire("0704_smallchi_2013")).body
    with pytest.raises(DecodeError) as refused:
        decode_batch(b"\x00\x03" + body[2:])
    assert refused.value.reason == "batch_count_mismatch"
    with pytest.raises(DecodeError) as refused:
        decode_batch(body[:-1])
    assert refused.value.reason == "truncated_item"


def test_encoding_takes_the_signs_from_the_coordinates():
    loc = Location(0, 0b10, -33.5, -70.25, 500, 62.5, 90, beijing_ms("2026-12-03 15:04:05") + 999)
    again = decode_location(encode_location(loc))
    assert again.status_flags == 0b1110
    assert (again.lat, again.lon, again.speed_kmh) == (-33.5, -70.25, 62.5)
    assert again.ts_ms == loc.ts_ms - 999  # whole seconds on the wire


@pytest.mark.parametrize("change", [{"ts_ms": beijing_ms("1999-12-31 23:59:59")}, {"speed_kmh": 6553.6},
                                    {"lat": 4295.0}, {"items": {1: b"x" * 256}}])
def test_values_the_wire_cannot_carry_are_refused(change):
    loc = Location(0, 0, 30.0, 121.0, 0, 0.0, 0, beijing_ms("2026-12-03 15:04:05"))
    with pytest.raises(ValueError):
        encode_location(replace(loc, **change))
