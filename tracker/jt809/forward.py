"""What the sub-platform client forwards to the provincial platform, as JT/T 809 bodies:
an accepted fix as a 0x1202 real-time position, an opened `high` violation as a 0x1402
alarm. Pure: records in, bodies out (None for a record that is not forwarded).

Positions go up in WGS-84 with ENCRYPT 0 (no map offset), as stored. Plates are sent in
yellow, the colour of every hazmat tanker's plate. Alarms are raised by this (supervision)
platform: WARN_SRC 3, government platform. Alarm types are the 2011 table's
(tracker.jt809.alarms); 2019 renumbers some, and the same numbers are sent there, which a
province on 2019 may read as other alarms (docs/jt809.md).
"""
from __future__ import annotations

from streams.times import parse_time_ms
from tracker.jt809.alarms import (
    AREA_ENTRY,
    FATIGUE,
    GOVERNMENT,
    OTHER_ALARM,
    OVERSPEED,
    ROUTE_DEVIATION,
    AlarmReport,
    encode_alarm,
)
from tracker.jt809.positions import Position, encode_real_time

YELLOW = 2
POSITIONED_ACC_ON = 0x03
OPENED = "hazmat.violation.opened"
FORWARDED_SEVERITY = "high"
WARN_TYPES = {"speeding": OVERSPEED, "fatigue_driving": FATIGUE, "restricted_road": AREA_ENTRY,
              "no_stopping": AREA_ENTRY, "route_deviation": ROUTE_DEVIATION}
MAX_INFO_CHARS = 200


def fix_body(fix: dict, version: str) -> bytes:
    """The 0x1200 body of a 0x1202 for a normalised fix; ValueError when it cannot be one."""
    heading = round(fix.get("heading_deg", 0)) % 360
    position = Position(fix["plate"], YELLOW, int(fix["ts"]) // 1000 * 1000, fix["lat"], fix["lon"],
                        fix.get("speed_kmh", 0.0), heading, round(fix.get("alt_m") or 0),
                        int(fix.get("alarm_flags") or 0), int(fix.get("status_flags", POSITIONED_ACC_ON)),
                        fix.get("mileage_km"))
    return encode_real_time(position, version)


def alarm_body(event: dict, version: str, platform_id: str = "") -> bytes | None:
    """The 0x1400 body of a 0x1402 for an opened `high` violation; None for other events."""
    data = event.get("data") if isinstance(event, dict) else None
    if event.get("type") != OPENED or not isinstance(data, dict) or data.get("severity") != FORWARDED_SEVERITY:
        return None
    started_s = parse_time_ms(data["started_at"], "started_at") // 1000
    info = f"{data['kind']} {data.get('violation_id', '')} ({data.get('lat')}, {data.get('lon')})"[:MAX_INFO_CHARS]
    report = AlarmReport(data["plate"], YELLOW, WARN_TYPES.get(data["kind"], OTHER_ALARM), started_s, info,
                         GOVERNMENT, source_platform=platform_id, start_s=started_s)
    return encode_alarm(report, version)
