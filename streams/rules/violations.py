"""Violation records and their events, with ids that replays reproduce.

A violation's id hashes what identifies it (plate, kind, geofence, start time), so the
same fixes processed again after a crash or a rebalance yield the same id. Inside, a
violation is a `Violation` value with epoch-ms times; its wire form (RFC 3339 times) is
made only at the edges: events, database rows, event ids.
"""
from __future__ import annotations

import hashlib
from dataclasses import dataclass, replace

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


@dataclass(slots=True)
class Violation:
    """A violation as the rules hold it: a value (every change makes a new one with
    dataclasses.replace: close_violation, withdraw_violation, revise_violation, `noted`),
    times as epoch ms. Its wire form (`wire`, RFC 3339 times: the Violation of docs/api.md
    and docs/topics.md) is made only at the edges: the events, a revision's event id, the
    API. Stored as it is in the vehicle states (orjson writes it)."""
    violation_id: str
    kind: str
    plate: str
    carrier_id: str | None
    status: str
    started_ms: int
    ended_ms: int | None
    lat: float
    lon: float
    geofence_id: str | None
    waybill_id: str | None
    severity: str
    agencies: list[str]
    details: dict

    def wire(self) -> dict:
        """The contract's Violation, keys in its order."""
        return {"violation_id": self.violation_id, "kind": self.kind, "plate": self.plate,
                "carrier_id": self.carrier_id, "status": self.status, "started_at": rfc3339(self.started_ms),
                "ended_at": rfc3339(self.ended_ms), "lat": self.lat, "lon": self.lon,
                "geofence_id": self.geofence_id, "waybill_id": self.waybill_id, "severity": self.severity,
                "agencies": self.agencies, "details": self.details}

    @classmethod
    def from_wire(cls, data: dict) -> Violation:
        """A wire dict (a state stored before violations were values kept them so)."""
        fields = {k: v for k, v in data.items() if k not in ("started_at", "ended_at")}
        return cls(**fields, started_ms=parse_rfc3339(data["started_at"]),
                   ended_ms=parse_rfc3339(data["ended_at"]) if data["ended_at"] else None)

    def noted(self, **details) -> Violation:
        """The open violation with figures that grew while it lasts (a higher top speed, a
        farther distance); the new record replaces this one where it is kept."""
        return replace(self, details={**self.details, **details})

    def reopened(self) -> Violation:
        """The opened record of a violation decided whole (opened and closed at once)."""
        return replace(self, status="open", ended_ms=None)


def open_violation(kind: str, plate: str, carrier_id: str | None, started_ms: int, lat: float, lon: float, *,
                   geofence_id: str | None = None, waybill_id: str | None = None, severity: str | None = None,
                   details: dict | None = None, part: str | None = None) -> Violation:
    severity = severity or SEVERITY[kind]
    return Violation(violation_id(plate, kind, geofence_id, started_ms, part), kind, plate, carrier_id, "open",
                     started_ms, None, lat, lon, geofence_id, waybill_id, severity, agencies_for(kind, severity),
                     details or {})


def close_violation(violation: Violation, ended_ms: int, **details) -> Violation:
    """The closed record; `duration_s` is added unless the caller gives one."""
    details.setdefault("duration_s", max(0, (ended_ms - violation.started_ms) // 1000))
    return replace(violation, status="closed", ended_ms=ended_ms, details={**violation.details, **details})


def withdraw_violation(violation: Violation, reason: str) -> Violation:
    """The record of a violation that fixes arriving later showed did not happen: closed,
    with no duration, `details.withdrawn` and the reason (announced as a closed event)."""
    return replace(violation, status="closed", ended_ms=violation.started_ms,
                   details={**violation.details, "duration_s": 0, "withdrawn": True, "withdrawn_reason": reason})


def revise_violation(violation: Violation) -> Violation:
    """A violation already announced whose record late fixes changed (it ended later, or
    goes on after all): announced again, with `details.revised`."""
    return replace(violation, details={**violation.details, "revised": True})


def event_id(violation: Violation | dict, event_type: str) -> str:
    """Deterministic, of a violation or of its wire form (as the API reads it back).
    Withdrawals and revisions have ids of their own, so consumers that dropped the earlier
    event as a duplicate still see them; a revision's id follows from its content (the
    wire form), so each distinct revision is new and a repeated one is not."""
    wire = violation if isinstance(violation, dict) else None
    vid, details = (wire["violation_id"], wire["details"]) if wire else (violation.violation_id, violation.details)
    if details.get("withdrawn"):
        return f"{vid}.withdrawn"
    base = f"{vid}.{'opened' if event_type == OPENED else 'closed'}"
    if details.get("revised"):
        content = orjson.dumps(wire or violation.wire(), option=orjson.OPT_SORT_KEYS)
        return f"{base}.{hashlib.sha256(content).hexdigest()[:12]}"
    return base


def cloud_event(event_type: str, violation: Violation | dict) -> dict:
    """docs/topics.md violation event: CloudEvents 1.0 structured JSON, of a violation or
    of its wire form (as the API reads it back)."""
    data = violation.wire() if isinstance(violation, Violation) else violation
    return {
        "specversion": "1.0",
        "id": event_id(data, event_type),
        "source": "hazmat/rules",
        "type": event_type,
        "time": data["ended_at"] if event_type == CLOSED else data["started_at"],
        "subject": data["plate"],
        "datacontenttype": "application/json",
        "data": data,
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
