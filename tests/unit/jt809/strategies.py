"""Hypothesis strategies for JT/T 809 values that survive a round trip exactly."""
from __future__ import annotations

import math

from hypothesis import strategies as st

from tracker.jt809 import Keys
from tracker.jt809.alarms import AlarmReport
from tracker.jt809.messages import Login, Logout
from tracker.jt809.positions import Position
from tracker.jt809.vehicle import Registration

VERSIONS = st.sampled_from(["2011", "2019"])
KEYS = st.none() | st.builds(Keys, st.integers(1, 0xFFFFFFFF), st.integers(0, 0xFFFFFFFF), st.integers(0, 0xFFFFFFFF))
U32 = st.integers(0, 0xFFFFFFFF)
U16 = st.integers(0, 0xFFFF)
U8 = st.integers(0, 0xFF)
TIMES_MS = st.integers(946_656_000, 4_102_415_999).map(lambda s: s * 1000)  # 2000-2099, Beijing time
STANDARD_SIZES = {0x01: 4, 0x02: 2, 0x03: 2, 0x04: 2, 0x11: 5, 0x12: 6, 0x13: 7, 0x25: 4, 0x2A: 2, 0x2B: 4,
                  0x30: 1, 0x31: 1, 0x64: 47, 0x65: 47}  # (0x64/0x65: 苏标 active-safety items)
_CHARS = "0123456789ABCDEFGHJKLMNPQRSTUVWXYZabc.-_浙甬测粤京"


def text(width: int) -> st.SearchStrategy[str]:
    """GBK text of at most ``width`` bytes, without the NUL/space padding decoding strips."""
    return st.text(_CHARS, max_size=width).filter(lambda t: len(t.encode("gbk")) <= width)


@st.composite
def logins(draw, version: str) -> Login:
    return Login(draw(U32), draw(text(8)), draw(text(32)), draw(U16), draw(U32) if version == "2019" else None)


LOGOUTS = st.builds(Logout, U32, text(8))


@st.composite
def registrations(draw, version: str) -> Registration:
    wide = version == "2019"
    return Registration(draw(text(21)), draw(U8), draw(text(11)), draw(text(11)), draw(text(30 if wide else 20)),
                        draw(text(30 if wide else 7)), draw(text(13 if wide else 12)),
                        draw(text(15)) if wide else None)


@st.composite
def alarms(draw, version: str) -> AlarmReport:
    common = dict(plate=draw(text(21)), colour=draw(U8), warn_type=draw(U16), warn_time_s=draw(U32),
                  info=draw(text(200)))
    if version == "2011":
        return AlarmReport(**common, source=draw(U8), info_id=draw(U32))
    return AlarmReport(**common, source_platform=draw(text(11)), start_s=draw(U32), end_s=draw(U32),
                       target_platform=draw(text(11)), line_id=draw(U32))


def _signed(draw, raw_max: int) -> float:
    return draw(st.integers(0, raw_max)) / 1e6 * draw(st.sampled_from([1, -1]))


@st.composite
def positions(draw, version: str, plate: str = "浙B12345", colour: int = 2) -> Position:
    lat, lon = _signed(draw, 0xFFFFFFFF), _signed(draw, 0xFFFFFFFF)
    status = draw(U32) & ~0b1100
    status |= (4 if math.copysign(1, lat) < 0 else 0) | (8 if math.copysign(1, lon) < 0 else 0)
    common = dict(plate=plate, colour=colour, ts_ms=draw(TIMES_MS), lat=lat, lon=lon, heading_deg=draw(U16),
                  alt_m=draw(U16), alarm_flags=draw(U32), status_flags=status, gcj02=draw(st.booleans()))
    if version == "2011":
        return Position(**common, speed_kmh=float(draw(U16)), mileage_km=float(draw(U32)),
                        recorder_speed_kmh=draw(U16))
    ids = draw(st.lists(st.integers(0, 255), unique=True, max_size=6))
    items = {item_id: draw(st.binary(min_size=STANDARD_SIZES.get(item_id, 0),
                                     max_size=STANDARD_SIZES.get(item_id, 40))) for item_id in ids}
    mileage = int.from_bytes(items[0x01], "big") / 10 if 0x01 in items else None
    platforms = tuple((draw(text(11)), draw(U32)) for _ in range(3))
    return Position(**common, speed_kmh=draw(U16) / 10, mileage_km=mileage, items=items, platform_alarms=platforms)
