"""Violation records and their events, with ids that replays reproduce.

A violation's id hashes what identifies it (plate, kind, geofence, start time), so the
same fixes processed again after a crash or a rebalance yield the same id.
"""
from __future__ import annotations

import hashlib

import orjson

from streams.times import parse_rfc3339, rfc3339
from streams.vocabulary import agencies_for

OPENED, CLOSED = "hazmat.violation.opened", "hazmat.violation.closed"
# The safety office's handling (docs/api.md "Alarm handling"), announced by the API.
ACKNOWLEDGED, RESOLVED = "hazmat.violation.acknowledged", "hazmat.violation.resolved"
HANDLING_SOURCE = "hazmat/handling"

SEVERITY = {
    "illegal_parking": "medium",
    "no_stopping": "high",
    "restricted_road": "high",
    "route_deviation": "medium",
    "speeding": "medium",
    "fatigue_driving": "high",
    "night_driving": "medium",
    "offline": "medium",
    "offline_displacement": "medium",
    "gps_jump": "low",
    "filling_vehicle_absent": "medium",
    "filling_overload": "high",
    "filling_unqualified": "high",
    "filling_no_waybill": "medium",
    "incident_zone_entry": "high",
    "sos": "high",
    "collision": "high",
    "terminal_fault": "medium",
    "active_safety": "medium",  # level 2: high
    "gps_missing": "medium",  # a waybill active: high
    "unregistered_vehicle": "medium",
    "cloned_plate": "high",
}


def violation_id(plate: str, kind: str, geofence_id: str | None, started_ms: int, part: str | None = None) -> str:
    """`part` tells apart violations of one kind that may begin at one moment (two
    active-safety alarm types in one report, two checkpoints' reads)."""
    tail = f"|{part}" if part else ""
    digest = hashlib.sha256(f"{plate}|{kind}|{geofence_id or ''}|{started_ms}{tail}".encode()).hexdigest()
    return f"v-{digest[:24]}"


def open_violation(kind: str, plate: str, carrier_id: str | None, started_ms: int, lat: float, lon: float, *,
                   geofence_id: str | None = None, waybill_id: str | None = None, severity: str | None = None,
                   details: dict | None = None, part: str | None = None) -> dict:
    severity = severity or SEVERITY[kind]
    return {
        "violation_id": violation_id(plate, kind, geofence_id, started_ms, part),
        "kind": kind,
        "plate": plate,
        "carrier_id": carrier_id,
        "status": "open",
        "started_at": rfc3339(started_ms),
        "ended_at": None,
        "lat": lat,
        "lon": lon,
        "geofence_id": geofence_id,
        "waybill_id": waybill_id,
        "severity": severity,
        "agencies": agencies_for(kind, severity),
        "details": details or {},
    }


def close_violation(violation: dict, ended_ms: int, **details) -> dict:
    """The closed record; `duration_s` is added unless the caller gives one."""
    details.setdefault("duration_s", max(0, (ended_ms - parse_rfc3339(violation["started_at"])) // 1000))
    return dict(violation, status="closed", ended_at=rfc3339(ended_ms), details={**violation["details"], **details})


def withdraw_violation(violation: dict, reason: str) -> dict:
    """The record of a violation that fixes arriving later showed did not happen: closed,
    with no duration, `details.withdrawn` and the reason (announced as a closed event)."""
    return dict(violation, status="closed", ended_at=violation["started_at"],
                details={**violation["details"], "duration_s": 0, "withdrawn": True, "withdrawn_reason": reason})


def revise_violation(violation: dict) -> dict:
    """A violation already announced whose record late fixes changed (it ended later, or
    goes on after all): announced again, with `details.revised`."""
    return dict(violation, details={**violation["details"], "revised": True})


def event_id(violation: dict, event_type: str) -> str:
    """Deterministic. Withdrawals and revisions have ids of their own, so consumers that
    dropped the earlier event as a duplicate still see them; a revision's id follows
    from its content, so each distinct revision is new and a repeated one is not."""
    if violation["details"].get("withdrawn"):
        return f"{violation['violation_id']}.withdrawn"
    base = f"{violation['violation_id']}.{'opened' if event_type == OPENED else 'closed'}"
    if violation["details"].get("revised"):
        return f"{base}.{hashlib.sha256(orjson.dumps(violation, option=orjson.OPT_SORT_KEYS)).hexdigest()[:12]}"
    return base


def cloud_event(event_type: str, violation: dict) -> dict:
    """docs/topics.md violation event: CloudEvents 1.0 structured JSON."""
    return {
        "specversion": "1.0",
        "id": event_id(violation, event_type),
        "source": "hazmat/rules",
        "type": event_type,
        "time": violation["ended_at"] if event_type == CLOSED else violation["started_at"],
        "subject": violation["plate"],
        "datacontenttype": "application/json",
        "data": violation,
    }


def handling_event(event_type: str, violation: dict) -> dict:
    """An acknowledgement or resolution as a CloudEvent: one id per violation and action
    (`<violation_id>.acknowledged` / `.resolved`: each happens once), the time it was
    done, data the Violation with its `handling`."""
    handling = violation["handling"]
    acked = event_type == ACKNOWLEDGED
    return {
        "specversion": "1.0",
        "id": f"{violation['violation_id']}.{'acknowledged' if acked else 'resolved'}",
        "source": HANDLING_SOURCE,
        "type": event_type,
        "time": handling["acked_at"] if acked else handling["resolved_at"],
        "subject": violation["plate"],
        "datacontenttype": "application/json",
        "data": violation,
    }
