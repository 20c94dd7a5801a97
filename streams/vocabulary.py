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
    "incident_zone_entry",
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
# How the safety office closes an alarm (POST /v1/violations/{id}/resolve).
DISPOSITIONS = ("confirmed", "false_alarm", "handled")
# A vehicle on the map: what its rule state says (streams.rules.state.VehicleState.status).
STATUSES = ("moving", "stopped", "offline")
AGENCIES = ("police", "transport", "market", "emergency")

# docs/topics.md "Routing to agencies"; `emergency` also gets every `high`.
DEFAULT_ROUTING: dict[str, tuple[str, ...]] = {
    "police": ("illegal_parking", "no_stopping", "restricted_road", "speeding", "night_driving",
               "incident_zone_entry", "sos", "collision", "gps_missing", "unregistered_vehicle", "cloned_plate"),
    "transport": ("route_deviation", "fatigue_driving", "offline", "offline_displacement", "gps_jump",
                  "filling_no_waybill", "terminal_fault", "active_safety", "gps_missing", "unregistered_vehicle"),
    "market": ("filling_overload", "filling_unqualified", "filling_vehicle_absent"),
    "emergency": ("offline_displacement", "incident_zone_entry", "sos", "collision"),
}

FIX_SOURCES = ("http", "jt808", "jt809")
GEOFENCE_KINDS = ("chem_park", "parking", "filling_station", "restricted_road", "no_stopping", "speed_zone")
# An open incident's zones as geofences of the live rule: written and removed with the
# incident itself, never through PUT /v1/geofences, and not listed by GET /v1/geofences.
INCIDENT_ZONE = "incident_zone"

# docs/incidents.md "Sites": the places an incident's zones are checked against.
SITE_KINDS = ("school", "kindergarten", "hospital", "elderly_home", "residential", "crowded_place", "water_source",
              "fire_station", "enterprise_fire_team", "supply_depot")
RESPONDER_KINDS = ("fire_station", "enterprise_fire_team")  # an Incident's `responders`: the nearest of these


def agencies_for(kind: str, severity: str) -> list[str]:
    """The agencies a violation is routed to under the default routing."""
    routed = [agency for agency, kinds in DEFAULT_ROUTING.items() if kind in kinds]
    if severity == "high" and "emergency" not in routed:
        routed.append("emergency")
    return routed
