"""Geofences as the rules use them: one area polygon each, in degrees, ready for tests.

Corridors (LineString + buffer_m) and stations (Point + radius_m) become polygons here,
buffered in metres, once per geofence version.
"""
from __future__ import annotations

from dataclasses import dataclass

import shapely

from geofence.features import area_of

EXPRESSWAY_LIMIT_KMH = 80  # a speed_zone at or above this limit is an expressway (night rule)


@dataclass(frozen=True)
class BanWindow:
    days: tuple[int, ...]  # ISO weekdays, 1 = Monday
    start_min: int  # minutes after local midnight
    end_min: int  # may be < start_min: the window crosses midnight


@dataclass(frozen=True)
class IncidentZoneRef:
    """What the live rule needs of an incident's zone (written by the incident desk)."""
    incident_id: str
    zone: str  # isolation, protective or fire
    rank: int  # 0 for the incident's innermost (smallest) zone
    un_number: str | None
    plate: str | None  # the incident's own vehicle, which the rule leaves alone
    lat: float
    lon: float


def incident_zone_id(incident_id: str, zone: str) -> str:
    """The geofence id of an open incident's zone."""
    return f"incident:{incident_id}:{zone}"


@dataclass(frozen=True)
class Geofence:
    id: str
    kind: str
    version: int
    area: object  # shapely Polygon/MultiPolygon in WGS-84 degrees
    name: str = ""
    speed_limit_kmh: float | None = None
    ban_windows: tuple[BanWindow, ...] | None = None  # None = always banned
    station_id: str | None = None
    incident: IncidentZoneRef | None = None  # the zone of an open incident (kind incident_zone)

    @property
    def is_expressway(self) -> bool:
        return self.kind == "speed_zone" and (self.speed_limit_kmh or 0) >= EXPRESSWAY_LIMIT_KMH


def _minutes(hhmm: str) -> int:
    hours, minutes = hhmm.split(":")
    return int(hours) * 60 + int(minutes)


def compile_geofence(gid: str, version: int, geometry: dict, properties: dict) -> Geofence:
    """From a stored (already validated) Feature to the polygon the index and rules use."""
    area = area_of(geometry, properties)
    shapely.prepare(area)
    windows = properties.get("ban_windows")
    return Geofence(
        id=gid,
        kind=properties["kind"],
        version=version,
        area=area,
        name=properties.get("name", ""),
        speed_limit_kmh=properties.get("speed_limit_kmh"),
        ban_windows=None if windows is None else tuple(
            BanWindow(tuple(w.get("days", range(1, 8))), _minutes(w["from"]), _minutes(w["to"])) for w in windows),
        station_id=properties.get("station_id"),
        incident=_incident(properties) if properties["kind"] == "incident_zone" else None,
    )


def _incident(p: dict) -> IncidentZoneRef:
    return IncidentZoneRef(p["incident_id"], p["zone"], p["rank"], p.get("un_number"), p.get("plate"), p["lat"], p["lon"])
