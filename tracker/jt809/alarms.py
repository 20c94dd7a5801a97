"""0x1400 sub-type 0x1402: an alarm reported upward (UP_WARN_MSG_ADPT_INFO).

2011: envelope with plate and colour, then WARN_SRC BYTE (1 terminal, 2 enterprise
platform, 3 government platform, 9 other), WARN_TYPE WORD, WARN_TIME UINT64 (UTC
seconds), INFO_ID DWORD, INFO_LENGTH DWORD, INFO_CONTENT (GBK).
2019: envelope without the vehicle, then source platform id BYTE[11], WARN_TYPE WORD,
WARN_TIME, START_TIME and END_TIME UINT64, plate BYTE[21], colour BYTE, target platform
id BYTE[11], DRV_LINE_ID DWORD, INFO_LENGTH DWORD, INFO_CONTENT. The standard's table
gives the plate another width; every implementation found (and a real frame, vector
smallchi_2019_1402_frame) uses 21, so 21 it is. INFO_CONTENT is free text: characters
GBK lacks are sent as "?" rather than refusing the alarm.
"""
from __future__ import annotations

import struct
from dataclasses import dataclass

from tracker.jt809.codec import Frame
from tracker.jt809.errors import CodecError
from tracker.jt809.text import read_text, write_text
from tracker.jt809.vehicle import PLATE, decode_envelope, encode_envelope

ALARM_REPORT = 0x1402
TERMINAL, ENTERPRISE, GOVERNMENT, OTHER_SOURCE = 1, 2, 3, 9
# WARN_TYPE as the 2011 table numbers it (SmallChi/JT809 JT809WarnType). The 2019 table
# renumbers: the real 2019 frame in the vectors reports 超时停车 (overtime parking) as 0xA001.
OVERSPEED, FATIGUE, EMERGENCY, AREA_ENTRY, AREA_EXIT = 0x0001, 0x0002, 0x0003, 0x0004, 0x0005
ROUTE_DEVIATION, OVERTIME_DRIVING, OTHER_ALARM = 0x000B, 0x000D, 0x000E

_HEAD_2011 = struct.Struct(">BHQI")
_HEAD_2019 = struct.Struct(">11sHQQQ")
_TAIL_2019 = struct.Struct(">B11sI")
_LENGTH = struct.Struct(">I")


@dataclass(frozen=True, slots=True)
class AlarmReport:
    plate: str
    colour: int
    warn_type: int  # OVERSPEED ... OTHER_ALARM in 2011
    warn_time_s: int  # UTC seconds
    info: str  # free text, GBK on the wire
    source: int = TERMINAL  # 2011 WARN_SRC
    info_id: int = 0  # 2011 INFO_ID
    source_platform: str = ""  # 2019: who raised it
    start_s: int = 0  # 2019 event start, UTC seconds
    end_s: int = 0  # 2019 event end
    target_platform: str = ""  # 2019: platform the alarm is about, if any
    line_id: int = 0  # 2019 DRV_LINE_ID (JT/T 808 0x8606 route id)


def encode_alarm(report: AlarmReport, version: str) -> bytes:
    """The whole 0x1400 body of a 0x1402."""
    info = report.info.encode("gbk", errors="replace")
    try:
        if version == "2011":
            data = _HEAD_2011.pack(report.source, report.warn_type, report.warn_time_s, report.info_id)
            return encode_envelope(ALARM_REPORT, data + _LENGTH.pack(len(info)) + info, report.plate, report.colour)
        data = (_HEAD_2019.pack(write_text(report.source_platform, 11, "source platform"), report.warn_type,
                                report.warn_time_s, report.start_s, report.end_s)
                + write_text(report.plate, PLATE, "plate")
                + _TAIL_2019.pack(report.colour, write_text(report.target_platform, 11, "target platform"),
                                  report.line_id))
    except struct.error as error:
        raise ValueError(f"alarm not representable: {error}") from error
    return encode_envelope(ALARM_REPORT, data + _LENGTH.pack(len(info)) + info)


def decode_alarm(frame: Frame) -> AlarmReport:
    envelope = decode_envelope(frame.body, vehicle=frame.version == "2011")
    if envelope.sub_type != ALARM_REPORT:
        raise CodecError("bad_sub_type", f"0x{envelope.sub_type:04x} is no alarm report")
    data = envelope.data
    if frame.version == "2011":
        head = _fields(data, _HEAD_2011, 0)
        info = _info(data, _HEAD_2011.size)
        source, warn_type, warn_time, info_id = head
        return AlarmReport(envelope.plate or "", envelope.colour or 0, warn_type, warn_time, info, source, info_id)
    platform, warn_type, warn_time, start, end = _fields(data, _HEAD_2019, 0)
    plate_at = _HEAD_2019.size
    colour, target, line_id = _fields(data, _TAIL_2019, plate_at + PLATE)
    info = _info(data, plate_at + PLATE + _TAIL_2019.size)
    return AlarmReport(read_text(data[plate_at:plate_at + PLATE]), colour, warn_type, warn_time, info,
                       source_platform=read_text(platform), start_s=start, end_s=end,
                       target_platform=read_text(target), line_id=line_id)


def _fields(data: bytes, layout: struct.Struct, at: int) -> tuple:
    if len(data) < at + layout.size:
        raise CodecError("bad_body_length", f"alarm report cut off at offset {at}")
    return layout.unpack_from(data, at)


def _info(data: bytes, at: int) -> str:
    (length,) = _fields(data, _LENGTH, at)
    if len(data) != at + _LENGTH.size + length:
        raise CodecError("bad_body_length", f"INFO_LENGTH {length}, {len(data) - at - _LENGTH.size} bytes follow")
    return read_text(data[at + _LENGTH.size:])
