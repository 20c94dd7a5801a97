"""Active-safety alarms (苏标 T/JSATL12-2017) carried in 0x0200 additional items 0x64
(ADAS) and 0x65 (DSM), 47 bytes each.

Both share their head and tail: alarm id DWORD, flag BYTE (0 unavailable, 1 begins,
2 ends), type BYTE, level BYTE, then 5 source-specific bytes (ADAS: vehicle-ahead speed,
distance ahead in 100 ms, lane-departure type, road-sign type, road-sign value; DSM:
fatigue level and 4 reserved), then speed BYTE km/h, altitude WORD, latitude DWORD,
longitude DWORD, time BCD[6], vehicle status WORD and the 16-byte alarm mark
(terminal id 7, time 6, sequence 1, attachment count 1, reserved 1) that attachments
refer to. The length is checked in location.py with the other fixed-size items; here
every field is kept, so encoding what was decoded gives the same bytes.
"""
from __future__ import annotations

import struct
from dataclasses import dataclass

from streams.alarms import SAFETY_ITEMS, safety_type_name

SIZE = 47
_LAYOUT = struct.Struct(">IBBB5sBHII6sH16s")
assert _LAYOUT.size == SIZE


@dataclass(frozen=True, slots=True)
class SafetyAlarm:
    item_id: int  # 0x64 ADAS, 0x65 DSM
    alarm_id: int
    flag: int
    type_code: int
    level: int
    specific: bytes  # the 5 source-specific bytes
    speed_kmh: int
    alt_m: int
    lat_raw: int  # degrees x 10^6, as the 0x0200 body (the report's own position is used)
    lon_raw: int
    time_bcd: bytes
    vehicle_status: int
    mark: bytes

    @property
    def source(self) -> str:
        return SAFETY_ITEMS[self.item_id]

    def as_fix_field(self) -> dict:
        """One entry of a fix's `active_safety` (schemas/normalised_fix.schema.json)."""
        return {"source": self.source, "type": safety_type_name(self.source, self.type_code), "level": self.level,
                "flag": self.flag, "speed_kmh": self.speed_kmh, "alarm_id": self.alarm_id}


def decode_safety(item_id: int, value: bytes) -> SafetyAlarm:
    """`value` is SIZE bytes (location.py refused any other length)."""
    return SafetyAlarm(item_id, *_LAYOUT.unpack(value))


def encode_safety(alarm: SafetyAlarm) -> bytes:
    """The item's value; struct.error for fields the wire cannot carry."""
    return _LAYOUT.pack(alarm.alarm_id, alarm.flag, alarm.type_code, alarm.level, alarm.specific, alarm.speed_kmh,
                        alarm.alt_m, alarm.lat_raw, alarm.lon_raw, alarm.time_bcd, alarm.vehicle_status, alarm.mark)
