"""The cross-checks of one filling record (the "five checks" a station must make:
vehicle, tank, driver and escort, waybill), and the GPS presence check. Pure.

Dates are compared on the local (Asia/Shanghai) day of `filled_at`: a permit valid until
2026-11-30 still covers a filling on 30 November and no longer one on 1 December.
"""
from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import date

from shapely import Point

from geofence.metric import LocalPlane
from streams.rules.violations import (
    Violation,
    close_violation,
    open_violation,
    violation_id,
)
from streams.times import local_day

PRESENCE_WINDOW_MS = 15 * 60 * 1000
PRESENCE_RADIUS_M = 200.0
PRESENT, ABSENT, PENDING = "present", "absent", "pending"


@dataclass(frozen=True)
class Vehicle:
    plate: str
    carrier_id: str
    tank_capacity_kg: float
    hazard_classes: tuple[str, ...]
    permit_valid_until: date
    tank_inspection_valid_until: date


@dataclass(frozen=True)
class Person:
    id: str
    qualification_valid_until: date


@dataclass(frozen=True)
class Waybill:
    id: str
    un_number: str
    valid_from: int
    valid_to: int


def un(number: str) -> str:
    return number.upper().removeprefix("UN")


def _violation(kind: str, record: dict, carrier_id: str | None, station_lat: float, station_lon: float,
               **details) -> Violation:
    """Filling violations open and close at once; the id is per record and kind."""
    opened = open_violation(kind, record["plate"], carrier_id, record["filled_at"], station_lat, station_lon,
                            waybill_id=record.get("waybill_id"), details={"record_id": record["id"],
                                                                          "station_id": record["station_id"], **details})
    opened = replace(opened, violation_id=violation_id(record["plate"], kind,
                                                       f"filling:{record['station_id']}/{record['id']}",
                                                       record["filled_at"]))
    return close_violation(opened, record["filled_at"], duration_s=0)


def qualification_problems(record: dict, vehicle: Vehicle | None, people: dict[str, Person]) -> list[str]:
    day = local_day(record["filled_at"])
    if vehicle is None:
        return [f"vehicle {record['plate']} is not registered"]
    problems = []
    if vehicle.permit_valid_until < day:
        problems.append(f"transport permit expired on {vehicle.permit_valid_until}")
    if vehicle.tank_inspection_valid_until < day:
        problems.append(f"tank inspection expired on {vehicle.tank_inspection_valid_until}")
    if record["hazard_class"] not in vehicle.hazard_classes:
        problems.append(f"hazard class {record['hazard_class']} is not permitted for this vehicle "
                        f"({', '.join(vehicle.hazard_classes) or 'none'})")
    for role in ("driver_id", "escort_id"):
        person_id = record.get(role)
        if person_id is None:
            continue
        person = people.get(person_id)
        if person is None:
            problems.append(f"{role.removesuffix('_id')} {person_id} is not registered")
        elif person.qualification_valid_until < day:
            problems.append(f"{role.removesuffix('_id')} {person_id} qualification expired on "
                            f"{person.qualification_valid_until}")
    return problems


def immediate_checks(record: dict, vehicle: Vehicle | None, people: dict[str, Person], waybills: list[Waybill],
                     station: tuple[float, float]) -> tuple[list[Violation], dict]:
    """(violations, check results) of everything decidable from the registry and waybills."""
    carrier = vehicle.carrier_id if vehicle else None
    lat, lon = station
    violations, results = [], {}
    if vehicle is not None and record["quantity_kg"] > vehicle.tank_capacity_kg:
        violations.append(_violation("filling_overload", record, carrier, lat, lon,
                                     quantity_kg=record["quantity_kg"], capacity_kg=vehicle.tank_capacity_kg))
    results["overload"] = bool(violations)
    problems = qualification_problems(record, vehicle, people)
    if problems:
        violations.append(_violation("filling_unqualified", record, carrier, lat, lon, problems=problems))
    results["qualified"] = not problems
    matching = [w for w in waybills if w.valid_from <= record["filled_at"] < w.valid_to and
                un(w.un_number) == un(record["un_number"])]
    if not matching:
        violations.append(_violation("filling_no_waybill", record, carrier, lat, lon, un_number=record["un_number"]))
    results["waybill_id"] = matching[0].id if matching else None
    return violations, results


def presence(record: dict, station_area, fixes: list[tuple[int, float, float]], window_over: bool) -> tuple[str, dict]:
    """Was the vehicle at the station (inside its area or within 200 m) within +-15 min?

    `fixes` are the vehicle's stored (ts, lat, lon) in that window. Present as soon as one
    fix matches; absent only once the track covers the window (`window_over`: see
    streams.clock.window_due, on the vehicle's own partition's time), so fixes still on
    their way count and a replay decides the same.
    """
    plane = LocalPlane.around(station_area)
    area_m = plane.to_metres(station_area)
    nearest = None
    for ts, lat, lon in fixes:
        if abs(ts - record["filled_at"]) > PRESENCE_WINDOW_MS:
            continue
        x, y = plane.xy(lon, lat)
        distance = area_m.distance(Point(x, y))
        nearest = distance if nearest is None else min(nearest, distance)
        if distance <= PRESENCE_RADIUS_M:
            return PRESENT, {"distance_m": round(distance, 1)}
    if not window_over:
        return PENDING, {}
    details = {"vehicle_offline": nearest is None}
    if nearest is not None:
        details["nearest_distance_m"] = round(nearest, 1)
    return ABSENT, details


def absent_violation(record: dict, carrier_id: str | None, station: tuple[float, float],
                     details: dict) -> Violation:
    return _violation("filling_vehicle_absent", record, carrier_id, station[0], station[1], **details)
