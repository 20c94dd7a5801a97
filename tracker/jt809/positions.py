"""Vehicle positions: 0x1200 sub-types 0x1202 (real-time) and 0x1203 (back-fill of
1-5 positions after an outage), in both layouts, as plain ``Position`` values.

2011 record, 36 bytes: ENCRYPT BYTE, date (day BYTE, month BYTE, year WORD), time (hour,
minute, second BYTE), lon DWORD and lat DWORD in 1e-6 degrees, VEC1 WORD (GNSS speed
km/h), VEC2 WORD (tachograph speed km/h), VEC3 DWORD (odometer km), direction WORD,
altitude WORD m, state DWORD and alarm DWORD (the JT/T 808 status and alarm bits).
2019 record: ENCRYPT BYTE, length DWORD, a JT/T 808 0x0200 body (read with
``tracker.jt808.location``), then three (platform id BYTE[11], alarm DWORD) pairs.

ENCRYPT is not the frame cipher: 1 says the coordinates went through the national
map-offset plug-in (GCJ-02), hence ``Position.gcj02``; converting is the consumer's
business. Times are Beijing time (UTC+8) on the wire, ``ts_ms`` epoch ms UTC. As in
JT/T 808, status bits 2 and 3 give the signs of latitude and longitude.
"""
from __future__ import annotations

import math
import struct
from dataclasses import dataclass, field
from datetime import date

from tracker.jt808.errors import DecodeError as Jt808Error
from tracker.jt808.location import MILEAGE, SOUTH, WEST, Location, decode_location, encode_location
from tracker.jt809.errors import CodecError
from tracker.jt809.text import read_text, write_text
from tracker.jt809.codec import Frame
from tracker.jt809.vehicle import decode_envelope, encode_envelope

REAL_TIME = 0x1202
BACKFILL = 0x1203
MAX_BACKFILL = 5

_RECORD_2011 = struct.Struct(">BBBHBBBIIHHIHHII")
_GNSS_HEAD = struct.Struct(">BI")
_PLATFORM = struct.Struct(">11sI")
_PLATFORMS = 3
_FIXED_0200 = 28
_EPOCH = date(1970, 1, 1).toordinal()
_BEIJING_S = 8 * 3600


@dataclass(frozen=True, slots=True)
class Position:
    """One position; the fields up to mileage_km are what a normalised fix needs."""

    plate: str
    colour: int
    ts_ms: int  # epoch ms UTC, whole seconds
    lat: float  # degrees, negative south
    lon: float  # degrees, negative west
    speed_kmh: float
    heading_deg: int
    alt_m: int
    alarm_flags: int
    status_flags: int
    mileage_km: float | None  # 2011 VEC3; 2019 the 0x0200 item 0x01 when present
    gcj02: bool = False  # the record's ENCRYPT flag: coordinates are map-offset
    recorder_speed_kmh: int | None = None  # 2011 VEC2 (tachograph); None: write VEC1 again
    items: dict[int, bytes] = field(default_factory=dict)  # 2019: 0x0200 additional items
    platform_alarms: tuple[tuple[str, int], ...] = ()  # 2019: up to 3 (platform id, alarm)
    quirks: tuple[str, ...] = ()  # deviations accepted on decoding, by name


def decode_positions(frame: Frame) -> list[Position]:
    """The positions of a 0x1200 frame of sub-type 0x1202 or 0x1203 (a 0x1203 with count
    0 is refused); ``vehicle.decode_envelope(frame.body).sub_type`` tells which it is."""
    envelope, version = decode_envelope(frame.body), frame.version
    data, plate, colour = envelope.data, envelope.plate or "", envelope.colour or 0
    if envelope.sub_type not in (REAL_TIME, BACKFILL):
        raise CodecError("bad_sub_type", f"0x{envelope.sub_type:04x} carries no positions")
    at, count = (0, 1) if envelope.sub_type == REAL_TIME else (1, data[0] if data else 0)
    positions = []
    while at < len(data):
        position, at = _record(data, at, version, plate, colour)
        positions.append(position)
    if len(positions) != count or not count:
        raise CodecError("bad_count", f"0x{envelope.sub_type:04x} says {count}, holds {len(positions)}")
    return positions


def encode_real_time(position: Position, version: str) -> bytes:
    """The whole 0x1200 body of a 0x1202."""
    return encode_envelope(REAL_TIME, _encode_record(position, version), position.plate, position.colour)


def encode_backfill(positions: list[Position], version: str) -> bytes:
    """The whole 0x1200 body of a 0x1203: 1-5 positions of one vehicle."""
    if not 1 <= len(positions) <= MAX_BACKFILL or len({(p.plate, p.colour) for p in positions}) != 1:
        raise ValueError(f"a back-fill holds 1-{MAX_BACKFILL} positions of one vehicle")
    data = bytes((len(positions),)) + b"".join(_encode_record(p, version) for p in positions)
    return encode_envelope(BACKFILL, data, positions[0].plate, positions[0].colour)


def _record(data: bytes, at: int, version: str, plate: str, colour: int) -> tuple[Position, int]:
    if version == "2011":
        end = at + _RECORD_2011.size
        if end > len(data):
            raise CodecError("bad_body_length", f"2011 position needs {_RECORD_2011.size} bytes, "
                                                f"{len(data) - at} left")
        return _decode_2011(_RECORD_2011.unpack_from(data, at), plate, colour), end
    if at + _GNSS_HEAD.size > len(data):
        raise CodecError("bad_body_length", f"2019 position head cut off at offset {at}")
    flag, size = _GNSS_HEAD.unpack_from(data, at)
    gnss_at = at + _GNSS_HEAD.size
    end = gnss_at + size + _PLATFORMS * _PLATFORM.size
    if end > len(data):
        raise CodecError("bad_body_length", f"2019 position declares {size} bytes of GNSS data, "
                                            f"{len(data) - gnss_at} bytes left for it and the platforms")
    loc, quirks = _location(data[gnss_at:gnss_at + size])
    platforms = tuple((read_text(raw), alarm) for raw, alarm in (
        _PLATFORM.unpack_from(data, gnss_at + size + i * _PLATFORM.size) for i in range(_PLATFORMS)))
    return Position(plate, colour, loc.ts_ms, loc.lat, loc.lon, loc.speed_kmh, loc.heading_deg, loc.alt_m,
                    loc.alarm_flags, loc.status_flags, loc.mileage_km, _gcj02(flag), None, loc.items,
                    platforms, quirks), end


def _location(gnss: bytes) -> tuple[Location, tuple[str, ...]]:
    """The embedded 0x0200 body. Quirk ``gnss_trailing_byte``: a real provincial frame
    (tests/data/jt809, guojian_2019_6) ends its GNSS data with one byte too few to be
    an additional item; when dropping that byte leaves a valid body, it is dropped."""
    try:
        return decode_location(gnss), ()
    except Jt808Error as error:
        if error.reason == "truncated_item" and len(gnss) > _FIXED_0200:
            try:
                return decode_location(gnss[:-1]), ("gnss_trailing_byte",)
            except Jt808Error:
                pass
        raise CodecError("bad_gnss", f"embedded 0x0200: {error.reason}: {error.detail}") from None


def _decode_2011(fields: tuple[int, ...], plate: str, colour: int) -> Position:
    flag, day, month, year, hour, minute, second, lon, lat, vec1, vec2, vec3, heading, alt, state, alarm = fields
    try:
        days = date(year, month, day).toordinal() - _EPOCH
    except ValueError:
        raise CodecError("bad_time", f"{year:04d}-{month:02d}-{day:02d} is no calendar date") from None
    if hour > 23 or minute > 59 or second > 59:
        raise CodecError("bad_time", f"{hour:02d}:{minute:02d}:{second:02d} is no time of day")
    ts_ms = (days * 86400 + hour * 3600 + minute * 60 + second - _BEIJING_S) * 1000
    return Position(plate, colour, ts_ms, -lat / 1e6 if state & SOUTH else lat / 1e6,
                    -lon / 1e6 if state & WEST else lon / 1e6, float(vec1), heading, alt, alarm, state,
                    float(vec3), _gcj02(flag), vec2)


def _encode_record(p: Position, version: str) -> bytes:
    try:
        return _encode_2019(p) if version == "2019" else _encode_2011(p)
    except (struct.error, OverflowError) as error:
        raise ValueError(f"position not representable in {version}: {error}") from error


def _encode_2019(p: Position) -> bytes:
    items = dict(p.items)
    if p.mileage_km is not None and MILEAGE not in items:
        items[MILEAGE] = round(p.mileage_km * 10).to_bytes(4, "big")
    gnss = encode_location(Location(p.alarm_flags, p.status_flags, p.lat, p.lon, p.alt_m, p.speed_kmh,
                                    p.heading_deg, p.ts_ms, items))
    if len(p.platform_alarms) > _PLATFORMS:
        raise ValueError(f"at most {_PLATFORMS} platform alarms")
    pairs = list(p.platform_alarms) + [("", 0)] * (_PLATFORMS - len(p.platform_alarms))
    tail = b"".join(write_text(pid, 11, "platform id") + alarm.to_bytes(4, "big") for pid, alarm in pairs)
    return _GNSS_HEAD.pack(int(p.gcj02), len(gnss)) + gnss + tail


def _encode_2011(p: Position) -> bytes:
    status = p.status_flags & ~(SOUTH | WEST)
    status |= (SOUTH if math.copysign(1, p.lat) < 0 else 0) | (WEST if math.copysign(1, p.lon) < 0 else 0)
    seconds = p.ts_ms // 1000 + _BEIJING_S
    day = date.fromordinal(seconds // 86400 + _EPOCH)
    rest = seconds % 86400
    speed = round(p.speed_kmh)
    return _RECORD_2011.pack(int(p.gcj02), day.day, day.month, day.year, rest // 3600, rest // 60 % 60, rest % 60,
                             round(abs(p.lon) * 1e6), round(abs(p.lat) * 1e6), speed,
                             speed if p.recorder_speed_kmh is None else p.recorder_speed_kmh,
                             round(p.mileage_km or 0), p.heading_deg, p.alt_m, status, p.alarm_flags)


def _gcj02(flag: int) -> bool:
    if flag > 1:
        raise CodecError("bad_encrypt_flag", f"position ENCRYPT {flag}")
    return bool(flag)
