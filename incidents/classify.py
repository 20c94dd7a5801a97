"""Which zone each site or vehicle is in, and how far from the incident: the Incident's
`sites`, `vehicles` and `responders` lists from a whole batch at once.

Points (vehicles' last fixes) are classified with numpy alone: a distance for the
circles and the square's own coordinates (along and across the wind) for the square,
exact on the plane rather than against the drawn polygons. Other geometries (a school's
grounds) go through vectorised shapely: in a circle when their nearest part is within
the radius, in the square when they intersect it, so a site reaching into a zone counts.
Distances are from the incident point to the thing's nearest part, in metres.
"""
from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Sequence

import numpy as np
import shapely

from incidents.zones import IncidentZones, Zone


@dataclass(frozen=True)
class Hit:
    index: int  # the thing's position in the batch given
    zone: str  # the innermost (smallest) zone containing it
    distance_m: float  # to the decimetre


def _inside_xy(zone: Zone, x: np.ndarray, y: np.ndarray, distance: np.ndarray) -> np.ndarray:
    if zone.downwind_deg is None:
        return distance <= zone.metres
    b = math.radians(zone.downwind_deg)
    along = x * math.sin(b) + y * math.cos(b)
    across = x * math.cos(b) - y * math.sin(b)
    return (along >= 0) & (along <= zone.metres) & (np.abs(across) <= zone.metres / 2)


def _inside_geometries(zone: Zone, geometries: np.ndarray, distance: np.ndarray) -> np.ndarray:
    if zone.downwind_deg is None:
        return distance <= zone.metres
    return shapely.intersects(zone.area_m, geometries)


def _hits(zones: IncidentZones, inside: list[np.ndarray], distance: np.ndarray) -> list[Hit]:
    """Hits for every thing inside some zone, nearest first (ties in batch order)."""
    matrix = np.column_stack(inside)
    found = np.flatnonzero(matrix.any(axis=1))
    first = matrix[found].argmax(axis=1)  # zones are smallest first
    order = np.argsort(distance[found], kind="stable")
    names = [z.name for z in zones.zones]
    return [Hit(int(found[i]), names[first[i]], round(float(distance[found[i]]), 1)) for i in order]


def point_hits(zones: IncidentZones, lons: Sequence[float], lats: Sequence[float]) -> list[Hit]:
    """The points (WGS-84 lon, lat arrays) inside any zone, nearest first."""
    x, y = zones.plane.xy(np.asarray(lons, dtype=float), np.asarray(lats, dtype=float))
    distance = np.hypot(x, y)
    return _hits(zones, [_inside_xy(z, x, y, distance) for z in zones.zones], distance)


def _on_plane(zones: IncidentZones, geometries: Sequence) -> tuple[np.ndarray, np.ndarray]:
    """(geometries in plane metres, their distances from the incident point)."""
    projected = zones.plane.to_metres(np.asarray(geometries, dtype=object))
    return projected, shapely.distance(projected, shapely.Point(0.0, 0.0))


def geometry_hits(zones: IncidentZones, geometries: Sequence) -> list[Hit]:
    """The WGS-84 shapely geometries (sites: points or polygons) reaching into any zone,
    nearest first."""
    projected, distance = _on_plane(zones, geometries)
    return _hits(zones, [_inside_geometries(z, projected, distance) for z in zones.zones], distance)


def classify(zones: IncidentZones, geometry) -> tuple[str | None, float]:
    """(innermost zone or None, distance in metres) of one WGS-84 geometry."""
    hits = geometry_hits(zones, [geometry])
    if hits:
        return hits[0].zone, hits[0].distance_m
    return None, round(float(_on_plane(zones, [geometry])[1][0]), 1)


def nearest(zones: IncidentZones, geometries: Sequence, k: int) -> list[tuple[int, float]]:
    """(index, distance in metres) of the k geometries nearest the incident, in or out of
    the zones, nearest first: the responders (fire stations, enterprise fire teams)."""
    if k <= 0 or len(geometries) == 0:
        return []
    distance = _on_plane(zones, geometries)[1]
    k = min(k, len(distance))
    closest = np.argpartition(distance, k - 1)[:k]
    closest = closest[np.lexsort((closest, distance[closest]))]
    return [(int(i), round(float(distance[i]), 1)) for i in closest]
