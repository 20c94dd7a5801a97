"""Names of what a terminal signals: the JT/T 808 0x0200 alarm bits and the active-safety
(苏标 T/JSATL12-2017) alarm types of additional items 0x64 (ADAS) and 0x65 (DSM).

Pure and shared: the JT/T 808 gateway names the alarms it decodes, HTTP gateways send
the same names, and the rules and the console show them (docs/jt808.md lists them).
"""
from __future__ import annotations

# Bit -> name (JT/T 808-2013 table 24; bits 15-17 as JT/T 808-2019 uses them).
ALARM_BITS: dict[int, str] = {
    0: "emergency", 1: "overspeed", 2: "fatigue_driving", 3: "danger_warning",
    4: "gnss_module_fault", 5: "gnss_antenna_cut", 6: "gnss_antenna_short",
    7: "main_power_low", 8: "main_power_lost", 9: "lcd_fault", 10: "tts_fault", 11: "camera_fault",
    12: "ic_card_module_fault", 13: "overspeed_warning", 14: "fatigue_warning", 15: "illegal_driving_warning",
    16: "tyre_pressure_warning", 17: "right_turn_blind_spot_warning", 18: "daily_driving_time_exceeded",
    19: "overtime_parking", 20: "area_entry_exit", 21: "route_entry_exit", 22: "road_segment_time",
    23: "route_deviation", 24: "vss_fault", 25: "fuel_abnormal", 26: "vehicle_stolen", 27: "illegal_ignition",
    28: "illegal_displacement", 29: "collision_warning", 30: "rollover_warning", 31: "illegal_door_opening",
}
BIT_OF = {name: bit for bit, name in ALARM_BITS.items()}

SOS_BITS = 1 << BIT_OF["emergency"]
COLLISION_BITS = (1 << BIT_OF["collision_warning"]) | (1 << BIT_OF["rollover_warning"])
FAULT_BITS = sum(1 << BIT_OF[name] for name in (
    "gnss_module_fault", "gnss_antenna_cut", "gnss_antenna_short", "main_power_low", "main_power_lost"))

SAFETY_SOURCES = ("adas", "dsm")
SAFETY_ITEMS = {0x64: "adas", 0x65: "dsm"}
SAFETY_TYPES: dict[str, dict[int, str]] = {
    "adas": {1: "forward_collision", 2: "lane_departure", 3: "following_too_close", 4: "pedestrian_collision",
             5: "frequent_lane_change", 6: "road_sign_over_limit", 7: "obstacle",
             0x10: "road_sign_recognised", 0x11: "active_capture"},
    "dsm": {1: "fatigue", 2: "phone_call", 3: "smoking", 4: "distraction", 5: "driver_abnormal",
            0x10: "auto_capture", 0x11: "driver_change"},
}
# Events the standard reports beside alarms (a sign read, a photo taken): not a driver's fault.
SAFETY_EVENTS = frozenset({"road_sign_recognised", "active_capture", "auto_capture", "driver_change"})
# flag 0 and 1 report an alarm (1: it begins); 2 says one has ended.
ALARM_FLAGS = (0, 1)


def alarm_names(flags: int) -> list[str]:
    """The names of the bits set in `flags`, lowest bit first."""
    return [name for bit, name in ALARM_BITS.items() if flags >> bit & 1]


def safety_type_name(source: str, code: int) -> str:
    """A type's name; a code the standard does not name keeps its number (``adas_0x21``),
    since provincial variants add types."""
    return SAFETY_TYPES[source].get(code) or f"{source}_0x{code:02x}"
