"""The verdicts of plate reads (docs/rules.md "Checkpoint cameras"): gps_missing (有抓拍无轨迹),
unregistered_vehicle (未入网) and cloned_plate (疑似套牌). Each is opened and closed at
once, with an id that the same read gives again, so a replay or a redelivery repeats
nothing new.
"""
from __future__ import annotations

from dataclasses import dataclass, replace

from geofence.metric import haversine_m
from streams.rules.violations import (
    Violation,
    close_violation,
    open_violation,
    violation_id,
)
from streams.times import local_day, rfc3339

MATCHED, MISSING, PENDING = "matched", "missing", "pending"
# What the GPS check of a read is when it is not made (the read opens nothing).
LOW_CONFIDENCE, UNREGISTERED = "low_confidence", "unregistered"


@dataclass(frozen=True)
class ReadConfig:
    window_ms: int = 5 * 60 * 1000  # a fix this close in time to the read matches it...
    match_radius_m: float = 1000.0  # ...when it is this close to the checkpoint
    min_confidence: float = 0.8  # reads below this are stored and shown, and open nothing
    clone_min_m: float = 5000.0
    clone_speed_kmh: float = 150.0
    clone_horizon_ms: int = 2 * 3600 * 1000  # reads and fixes this far apart in time are compared


@dataclass(frozen=True)
class Checkpoint:
    id: str
    name: str
    lat: float
    lon: float


def read_key(read: dict) -> str:
    return f"{read['checkpoint_id']}/{read['id']}"


def gps_verdict(checkpoint: Checkpoint, fixes: list[tuple[int, float, float]], window_over: bool,
                cfg: ReadConfig) -> str:
    """`fixes`: the vehicle's stored (ts, lat, lon) within the read's window. Matched as
    soon as one lies within the radius; missing only once the track covers the window
    (streams.clock.window_due), so fixes still on their way count."""
    if any(haversine_m(lat, lon, checkpoint.lat, checkpoint.lon) <= cfg.match_radius_m for _, lat, lon in fixes):
        return MATCHED
    return MISSING if window_over else PENDING


def _at_checkpoint(kind: str, read: dict, checkpoint: Checkpoint, carrier_id: str | None, part: str, *,
                   severity: str | None = None, waybill_id: str | None = None, **details) -> Violation:
    opened = open_violation(kind, read["plate"], carrier_id, read["ts"], checkpoint.lat, checkpoint.lon,
                            severity=severity, waybill_id=waybill_id,
                            details={"checkpoint_id": checkpoint.id, "checkpoint_name": checkpoint.name,
                                     "read_id": read["id"], "confidence": read["confidence"], **details})
    opened = replace(opened, violation_id=violation_id(read["plate"], kind, None, 0, part))
    return close_violation(opened, read["ts"], duration_s=0)


def gps_missing(read: dict, checkpoint: Checkpoint, carrier_id: str | None, waybill_id: str | None,
                last_fix: tuple[int, float, float] | None) -> Violation:
    """A registered vehicle seen at the checkpoint with no fix near it around the read;
    high while a waybill is active (a loaded tanker driving dark)."""
    distance = None if last_fix is None else round(haversine_m(last_fix[1], last_fix[2], checkpoint.lat,
                                                                checkpoint.lon), 1)
    return _at_checkpoint("gps_missing", read, checkpoint, carrier_id, f"read:{read_key(read)}",
                          severity="high" if waybill_id else "medium", waybill_id=waybill_id,
                          last_fix_at=rfc3339(last_fix[0]) if last_fix else None, last_fix_distance_m=distance)


def unregistered(read: dict, checkpoint: Checkpoint) -> Violation:
    """One a plate and local day: the id is the plate's and the day's."""
    return _at_checkpoint("unregistered_vehicle", read, checkpoint, None, f"day:{local_day(read['ts'])}")


def clone_conflict(read: dict, checkpoint: Checkpoint, others: list[tuple[int, float, float, str]],
                   cfg: ReadConfig) -> tuple[tuple[int, float, float, str], float, float] | None:
    """Of `others` ((ts, lat, lon, what): other reads and fixes of the plate), the nearest in
    time that the vehicle could not have reached: >= clone_min_m apart, needing more than
    clone_speed_kmh. With the distance and the implied speed."""
    best = None
    for other in sorted(others, key=lambda o: abs(o[0] - read["ts"])):
        distance = haversine_m(other[1], other[2], checkpoint.lat, checkpoint.lon)
        if distance < cfg.clone_min_m:
            continue
        speed = distance / max(abs(other[0] - read["ts"]) / 1000, 1.0) * 3.6
        if speed > cfg.clone_speed_kmh:
            best = (other, distance, speed)
            break
    return best


def cloned(read: dict, checkpoint: Checkpoint, carrier_id: str | None,
           conflict: tuple[tuple[int, float, float, str], float, float]) -> Violation:
    (ts, lat, lon, what), distance, speed = conflict
    # One a pair of sightings, whichever of two reads saw the other first.
    pair = "|".join(sorted((f"read {read_key(read)}", f"{what}@{ts}" if what == "fix" else what)))
    return _at_checkpoint("cloned_plate", read, checkpoint, carrier_id, f"clone:{pair}",
                          other={"what": what, "at": rfc3339(ts), "lat": round(lat, 7), "lon": round(lon, 7)},
                          distance_m=round(distance, 1), implied_speed_kmh=round(speed, 1))
