"""The zones of an incident as drawn: an isolation circle, a protective zone (a square
downwind, or a circle without a wind) and, for fires and explosions, a fire circle.

Built in metres on a local plane about the incident point (geofence.metric.LocalPlane:
exact to well under 0.1 % across the largest zone, 9 km) and returned in WGS-84. The
circles are drawn circumscribed (each edge's midpoint on the true circle), so the
polygon a live geofence uses never leaves out ground within the distance.
"""
from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
import shapely
from shapely.geometry import mapping
from shapely.geometry.polygon import orient

from geofence.metric import LocalPlane
from incidents.distances import Distances, distances, is_night, wind_band
from incidents.hazard import Hazard

KINDS = ("leak", "fire", "explosion", "collision", "rollover", "other")
FIRE_KINDS = frozenset({"fire", "explosion"})
ISOLATION, PROTECTIVE, FIRE = "isolation", "protective", "fire"
QUAD_SEGS = 32  # 128 vertices: a chord strays 0.03 % of the radius from the circle
_CIRCUMSCRIBE = 1 / math.cos(math.pi / (4 * QUAD_SEGS))


@dataclass(frozen=True)
class Zone:
    name: str  # ISOLATION, PROTECTIVE or FIRE
    metres: int  # a circle's radius, or the square's side
    downwind_deg: float | None  # the direction the square extends in; None for a circle
    area_m: shapely.Polygon  # on the incident's plane, for classifying
    geometry: shapely.Polygon  # WGS-84 degrees, counter-clockwise (RFC 7946)

    @property
    def area_m2(self) -> float:
        """The true area: circles as circles, so equal distances tie exactly."""
        return self.metres ** 2 * (1.0 if self.downwind_deg is not None else math.pi)


@dataclass(frozen=True)
class IncidentZones:
    lon: float
    lat: float
    night: bool
    distances: Distances
    plane: LocalPlane  # centred on the incident point
    zones: tuple[Zone, ...]  # smallest area first: the first containing a thing is its zone

    def zone(self, name: str) -> Zone | None:
        return next((z for z in self.zones if z.name == name), None)

    def union(self):
        """All zones as one WGS-84 area: the temporary geofence of the live rule."""
        return shapely.union_all([z.geometry for z in self.zones])

    def as_json(self) -> dict:
        """The Incident's `zones` object (coordinates to 6 decimals, a decimetre)."""
        answer = {}
        for z in self.zones:
            key = "distance_m" if z.name == PROTECTIVE else "radius_m"
            answer[z.name] = {key: z.metres, "geometry": _geojson(z.geometry)}
            if z.name == PROTECTIVE:
                answer[z.name]["downwind_deg"] = z.downwind_deg
        return answer


def _geojson(geometry) -> dict:
    return mapping(shapely.transform(geometry, lambda xy: np.round(xy, 6)))


def downwind_of(wind_from_deg: float | None, wind_speed_ms: float | None) -> float | None:
    """Where the plume goes: opposite to where the wind comes from (a north wind, 0,
    carries it south, 180). None without a direction or in calm air (speed 0), when
    the protective zone is a circle."""
    if wind_from_deg is None or wind_speed_ms == 0:
        return None
    return (wind_from_deg + 180.0) % 360.0


def _circle(metres: int):
    return shapely.Point(0.0, 0.0).buffer(metres * _CIRCUMSCRIBE, quad_segs=QUAD_SEGS)


def _square(side: int, downwind_deg: float):
    """The square downwind whose upwind side is centred on the origin."""
    b = math.radians(downwind_deg)
    dx, dy = math.sin(b) * side, math.cos(b) * side  # bearings turn clockwise from north
    rx, ry = math.cos(b) * side / 2, -math.sin(b) * side / 2  # half the side, to the right
    return shapely.Polygon([(-rx, -ry), (rx, ry), (rx + dx, ry + dy), (-rx + dx, -ry + dy)])


def _zone(plane: LocalPlane, name: str, metres: int, downwind_deg: float | None = None) -> Zone:
    area = _circle(metres) if downwind_deg is None else _square(metres, downwind_deg)
    shapely.prepare(area)
    return Zone(name, metres, downwind_deg, area, orient(plane.to_degrees(area), 1.0))


def incident_zones(lon: float, lat: float, hazard: Hazard, *, spill: str, kind: str, at_ms: int,
                   wind_from_deg: float | None = None, wind_speed_ms: float | None = None) -> IncidentZones:
    """The zones of an incident at (lon, lat) of `kind` (KINDS) with a `spill` of `hazard`,
    at epoch-ms `at_ms` (which decides day or night) in the wind given, if any."""
    if kind not in KINDS:
        raise ValueError(f"kind must be one of {KINDS}")
    night = is_night(at_ms)
    chosen = distances(hazard, spill, night, wind_band(wind_speed_ms))
    plane = LocalPlane(lon, lat)
    zones = [_zone(plane, ISOLATION, chosen.isolation_m),
             _zone(plane, PROTECTIVE, chosen.protective_m, downwind_of(wind_from_deg, wind_speed_ms))]
    if kind in FIRE_KINDS:
        zones.append(_zone(plane, FIRE, chosen.fire_m))
    zones.sort(key=lambda z: z.area_m2)  # stable: on a tie isolation, protective, fire
    return IncidentZones(lon, lat, night, chosen, plane, tuple(zones))


def rebuild(lon: float, lat: float, night: bool, zones_json: dict) -> IncidentZones:
    """The zones of a stored Incident (its `zones` object) drawn again exactly as they were,
    for classifying what has moved since (the vehicles of `GET /v1/incidents/{id}`)
    without asking the catalogue, whose figures may have changed meanwhile."""
    plane = LocalPlane(lon, lat)
    zones = []
    for name in (ISOLATION, PROTECTIVE, FIRE):
        found = zones_json.get(name)
        if found is not None:
            metres = found["distance_m" if name == PROTECTIVE else "radius_m"]
            zones.append(_zone(plane, name, metres, found.get("downwind_deg")))
    zones.sort(key=lambda z: z.area_m2)
    fire = zones_json.get(FIRE, {}).get("radius_m", 0)
    chosen = Distances(zones_json[ISOLATION]["radius_m"], zones_json[PROTECTIVE]["distance_m"], fire, "stored")
    return IncidentZones(lon, lat, night, chosen, plane, tuple(zones))
