"""0x0200 location reports and 0x0704 batches of them.

A report is 28 fixed bytes (alarm DWORD, status DWORD, latitude DWORD, longitude
DWORD, altitude WORD m, speed WORD 1/10 km/h, heading WORD, time BCD[6]) followed by
additional items ``id BYTE, length BYTE, value``.

Decisions worth knowing:
- Coordinates are unsigned on the wire; status bit 2 (south) and bit 3 (west) give
  the sign. ``encode_location`` sets those two bits from the signs of lat/lon (a
  south report at exactly 0° keeps its bit through -0.0), so callers only pass
  signed degrees.
- The time is Beijing time (UTC+8) with whole seconds; ``ts_ms`` is epoch ms UTC.
  A time that is no calendar date (month 13, all zeros) is refused: the report cannot
  be placed in time.
- Out-of-range values (latitude above 90°, longitude above 180°, heading above 359)
  are decoded and listed by ``Location.out_of_range``, not refused: public test
  frames carry them, and the gateway's fix validation rejects such fixes with a
  reason, dead-lettering them instead of answering the terminal with an error.
- Unknown additional items (vendor ids, JT/T 1078 video items) are kept as bytes.
  The fixed-size items of the 2013 standard and the 苏标 active-safety items 0x64/0x65
  (47 bytes, safety.py) are length-checked, since a wrong length there means the body
  is misread (a variant's longer alarm mark is refused, not guessed at). A repeated item id keeps the later value.
"""
from __future__ import annotations

import math
import struct
from dataclasses import dataclass, field
from datetime import date
from functools import lru_cache

from streams.alarms import SAFETY_ITEMS
from tracker.jt808.errors import DecodeError
from tracker.jt808.safety import SIZE as SAFETY_SIZE
from tracker.jt808.safety import SafetyAlarm, decode_safety

SOUTH = 1 << 2
WEST = 1 << 3
POSITIONED = 1 << 1
MILEAGE = 0x01
SATELLITES = 0x31

_FIXED = struct.Struct(">IIIIHHH6s")
_BATCH_HEAD = struct.Struct(">HB")
_WORD = struct.Struct(">H")
_EPOCH_ORDINAL = date(1970, 1, 1).toordinal()
_BEIJING_S = 8 * 3600
_DAY_S = 86400
_STANDARD_LENGTHS = {
    0x01: (4,), 0x02: (2,), 0x03: (2,), 0x04: (2,), 0x11: (1, 5), 0x12: (6,), 0x13: (7,),
    0x25: (4,), 0x2A: (2,), 0x2B: (4,), 0x30: (1,), 0x31: (1,),
    0x64: (SAFETY_SIZE,), 0x65: (SAFETY_SIZE,),  # 苏标 ADAS and DSM alarms (safety.py)
}


@dataclass(frozen=True, slots=True)
class Location:
    alarm_flags: int
    status_flags: int
    lat: float  # degrees, negative south
    lon: float  # degrees, negative west
    alt_m: int
    speed_kmh: float  # the wire's 1/10 km/h
    heading_deg: int  # 0 north, clockwise
    ts_ms: int  # epoch ms UTC
    items: dict[int, bytes] = field(default_factory=dict)  # additional items by id

    @property
    def positioned(self) -> bool:
        """Status bit 1: without it the coordinates are stale or zero, not a fix."""
        return bool(self.status_flags & POSITIONED)

    @property
    def mileage_km(self) -> float | None:
        value = self.items.get(MILEAGE)
        return int.from_bytes(value, "big") / 10 if value is not None else None

    @property
    def sats(self) -> int | None:
        value = self.items.get(SATELLITES)
        return value[0] if value else None

    @property
    def safety_alarms(self) -> list[SafetyAlarm]:
        """The active-safety alarms of items 0x64 (ADAS) and 0x65 (DSM), ADAS first."""
        return [decode_safety(i, self.items[i]) for i in SAFETY_ITEMS if i in self.items]

    @property
    def out_of_range(self) -> tuple[str, ...]:
        """Names of fields outside what the earth and a compass allow."""
        return tuple(name for name, bad in (
            ("lat", abs(self.lat) > 90), ("lon", abs(self.lon) > 180),
            ("heading_deg", self.heading_deg > 359)) if bad)


@dataclass(frozen=True, slots=True)
class Batch:
    kind: int  # 0 normal batch, 1 blind-area back-fill (late data: order by ts_ms)
    locations: tuple[Location, ...]


def decode_location(body: bytes) -> Location:
    if len(body) < _FIXED.size:
        raise DecodeError("bad_body_length", f"location needs {_FIXED.size} bytes, have {len(body)}")
    alarm, status, lat_raw, lon_raw, alt, speed, heading, bcd = _FIXED.unpack_from(body)
    lat = lat_raw / 1e6
    lon = lon_raw / 1e6
    return Location(alarm, status, -lat if status & SOUTH else lat, -lon if status & WEST else lon,
                    alt, speed / 10, heading, _time_ms(bcd), _items(body))


def encode_location(loc: Location) -> bytes:
    """The 0x0200 body; ValueError for values the wire cannot carry.

    ts_ms is floored to whole seconds (the wire has no milliseconds).
    """
    status = loc.status_flags & ~(SOUTH | WEST)
    if _negative(loc.lat):
        status |= SOUTH
    if _negative(loc.lon):
        status |= WEST
    try:
        head = _FIXED.pack(loc.alarm_flags, status, round(abs(loc.lat) * 1e6), round(abs(loc.lon) * 1e6),
                           loc.alt_m, round(loc.speed_kmh * 10), loc.heading_deg, _bcd_time(loc.ts_ms))
        return head + b"".join(bytes((item_id, len(value))) + value for item_id, value in loc.items.items())
    except (struct.error, OverflowError) as error:
        raise ValueError(f"location not representable on the wire: {error}") from error


def decode_batch(body: bytes) -> Batch:
    """0x0704: count WORD, kind BYTE, then per report a length WORD and a 0x0200 body."""
    if len(body) < _BATCH_HEAD.size:
        raise DecodeError("bad_body_length", f"batch needs {_BATCH_HEAD.size} bytes, have {len(body)}")
    count, kind = _BATCH_HEAD.unpack_from(body)
    locations = []
    at = _BATCH_HEAD.size
    while at < len(body):
        if at + 2 > len(body):
            raise DecodeError("truncated_item", f"report length cut off at offset {at}")
        (size,) = _WORD.unpack_from(body, at)
        at += 2
        if at + size > len(body):
            raise DecodeError("truncated_item", f"report {len(locations) + 1} declares {size} bytes, "
                                                f"{len(body) - at} left")
        locations.append(decode_location(body[at:at + size]))
        at += size
    if len(locations) != count:
        raise DecodeError("batch_count_mismatch", f"count says {count}, body holds {len(locations)}")
    return Batch(kind, tuple(locations))


def encode_batch(kind: int, locations: list[Location] | tuple[Location, ...]) -> bytes:
    parts = [_BATCH_HEAD.pack(len(locations), kind)]
    for loc in locations:
        body = encode_location(loc)
        parts.append(_WORD.pack(len(body)) + body)
    return b"".join(parts)


def _items(body: bytes) -> dict[int, bytes]:
    items: dict[int, bytes] = {}
    at, end = _FIXED.size, len(body)
    while at < end:
        if at + 2 > end:
            raise DecodeError("truncated_item", f"additional item header cut off at offset {at}")
        item_id, size = body[at], body[at + 1]
        at += 2
        if at + size > end:
            raise DecodeError("truncated_item",
                              f"additional item 0x{item_id:02x} declares {size} bytes, {end - at} left")
        allowed = _STANDARD_LENGTHS.get(item_id)
        if allowed is not None and size not in allowed:
            raise DecodeError("bad_item_length",
                              f"additional item 0x{item_id:02x} has {size} bytes, the standard says {allowed}")
        items[item_id] = body[at:at + size]
        at += size
    return items


def _time_ms(bcd: bytes) -> int:
    digits = bcd.hex()
    if not digits.isdigit():
        raise DecodeError("bad_time", f"time {digits} is not BCD")
    hour, minute, second = int(digits[6:8]), int(digits[8:10]), int(digits[10:12])
    if hour > 23 or minute > 59 or second > 59:
        raise DecodeError("bad_time", f"time {digits} is not a time of day")
    return (_days(digits[:6]) * _DAY_S + hour * 3600 + minute * 60 + second - _BEIJING_S) * 1000


@lru_cache(maxsize=1024)
def _days(yymmdd: str) -> int:
    """Days since 1970 of a BCD date; cached because a terminal's reports, and a whole
    fleet's, share a handful of dates (this was a fifth of decode_location)."""
    try:
        return date(2000 + int(yymmdd[:2]), int(yymmdd[2:4]), int(yymmdd[4:])).toordinal() - _EPOCH_ORDINAL
    except ValueError:
        raise DecodeError("bad_time", f"date {yymmdd} is not a calendar date") from None


def _bcd_time(ts_ms: int) -> bytes:
    seconds = ts_ms // 1000 + _BEIJING_S
    days, second_of_day = divmod(seconds, _DAY_S)
    day = date.fromordinal(days + _EPOCH_ORDINAL)  # ValueError before year 1
    if not 2000 <= day.year <= 2099:
        raise ValueError(f"ts_ms {ts_ms} is outside 2000-2099 (Beijing time)")
    hour, rest = divmod(second_of_day, 3600)
    digits = f"{day.year % 100:02d}{day.month:02d}{day.day:02d}{hour:02d}{rest // 60:02d}{rest % 60:02d}"
    return bytes.fromhex(digits)


def _negative(value: float) -> bool:
    return math.copysign(1.0, value) < 0
