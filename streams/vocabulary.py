"""Settled vocabularies shared by code, schemas and docs: change them only with a new version."""
from __future__ import annotations

VIOLATION_KINDS = (
    "illegal_parking",
    "no_stopping",
    "restricted_road",
    "route_deviation",
    "speeding",
    "fatigue_driving",
    "night_driving",
    "offline",
    "offline_displacement",
    "gps_jump",
    "filling_vehicle_absent",
    "filling_overload",
    "filling_unqualified",
    "filling_no_waybill",
    "sos",
    "collision",
    "terminal_fault",
    "active_safety",
    "gps_missing",
    "unregistered_vehicle",
    "cloned_plate",
)
# Decided from what terminals signal (alarm bits, active-safety items), not from positions.
TERMINAL_ALARM_KINDS = ("sos", "collision", "terminal_fault", "active_safety")
# Closed when the safety office resolves them, whatever the terminal still reports.
CLOSED_WHEN_RESOLVED = ("sos",)
# Decided by the plate-read worker from checkpoint cameras' reads.
CHECKPOINT_KINDS = ("gps_missing", "unregistered_vehicle", "cloned_plate")
# The kinds the per-vehicle rules decide from fixes (the rest come from filling records
# and plate reads).
FIX_RULE_KINDS = tuple(k for k in VIOLATION_KINDS if not k.startswith("filling_") and k not in CHECKPOINT_KINDS)
SEVERITIES = ("low", "medium", "high")
AGENCIES = ("police", "transport", "market", "emergency")

# CONTRACTS.md "Default routing to agencies"; `emergency` also gets every `high`.
DEFAULT_ROUTING: dict[str, tuple[str, ...]] = {
    "police": ("illegal_parking", "no_stopping", "restricted_road", "speeding", "night_driving",
               "sos", "collision", "gps_missing", "unregistered_vehicle", "cloned_plate"),
    "transport": ("route_deviation", "fatigue_driving", "offline", "offline_displacement", "gps_jump",
                  "filling_no_waybill", "terminal_fault", "active_safety", "gps_missing", "unregistered_vehicle"),
    "market": ("filling_overload", "filling_unqualified", "filling_vehicle_absent"),
    "emergency": ("offline_displacement", "sos", "collision"),
}

FIX_SOURCES = ("http", "jt808")
GEOFENCE_KINDS = ("chem_park", "parking", "filling_station", "restricted_road", "no_stopping", "speed_zone")


def agencies_for(kind: str, severity: str) -> list[str]:
    """The agencies a violation is routed to under the default routing."""
    routed = [agency for agency, kinds in DEFAULT_ROUTING.items() if kind in kinds]
    if severity == "high" and "emergency" not in routed:
        routed.append("emergency")
    return routed
