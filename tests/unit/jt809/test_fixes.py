"""Positions become Fix items the shared intake accepts, in WGS-84."""
from __future__ import annotations

from dataclasses import replace

import pytest

from geofence.gcj02 import wgs84_to_gcj02
from streams.fix import normalise_fix
from tracker.jt809.fixes import SOURCE, extras, fix_item
from tracker.jt809.positions import Position

NOW_MS = 1_764_900_000_000
POSITION = Position("浙B12345", 2, NOW_MS - 60_000, 29.9412, 121.8437, 42.0, 90, 12, 0, 0b11, 1234.0,
                    items={0x31: b"\x09"})


def test_a_position_is_a_fix_the_intake_accepts():
    item = fix_item(POSITION)
    assert item == {"plate": "浙B12345", "ts": NOW_MS - 60_000, "lat": 29.9412, "lon": 121.8437, "speed_kmh": 42.0,
                    "heading_deg": 90, "alt_m": 12, "alarm_flags": 0, "sats": 9}
    fix = normalise_fix(item, carrier_of=lambda plate: "c1", allowed_carrier=None, now_ms=NOW_MS, source=SOURCE)
    assert (fix["plate"], fix["lat"], fix["lon"]) == ("浙B12345", 29.9412, 121.8437)
    assert extras(POSITION) == {"status_flags": 3, "mileage_km": 1234.0}
    assert extras(replace(POSITION, mileage_km=None)) == {"status_flags": 3}


def test_map_offset_coordinates_are_moved_back_to_wgs84():
    glon, glat = wgs84_to_gcj02(121.8437, 29.9412)
    item = fix_item(replace(POSITION, lat=float(glat), lon=float(glon), gcj02=True))
    assert item["lat"] == pytest.approx(29.9412, abs=1e-6) and item["lon"] == pytest.approx(121.8437, abs=1e-6)
