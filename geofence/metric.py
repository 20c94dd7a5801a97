"""Metres on the ground for small areas: a local tangent plane around a reference point.

Buffers (corridor half-widths, station radii) and distances (route deviation, stops)
are metric; doing them in degrees would shrink east-west distances by cos(latitude).
Within tens of kilometres of the reference the plane is exact to well under 0.1 %.
"""
from __future__ import annotations

import math

import numpy as np
import shapely

EARTH_RADIUS_M = 6_371_008.8


def haversine_m(lat1: float, lon1: float, lat2: float, lon2: float) -> float:
    p1, p2 = math.radians(lat1), math.radians(lat2)
    dp, dl = p2 - p1, math.radians(lon2 - lon1)
    a = math.sin(dp / 2) ** 2 + math.cos(p1) * math.cos(p2) * math.sin(dl / 2) ** 2
    return 2 * EARTH_RADIUS_M * math.asin(min(1.0, math.sqrt(a)))


class LocalPlane:
    """Equirectangular projection about (lon0, lat0), in metres."""

    def __init__(self, lon0: float, lat0: float) -> None:
        self.lon0, self.lat0 = lon0, lat0
        self.m_per_deg_lat = math.radians(1) * EARTH_RADIUS_M
        self.m_per_deg_lon = self.m_per_deg_lat * math.cos(math.radians(lat0))

    @classmethod
    def around(cls, geometry) -> "LocalPlane":
        c = geometry.centroid
        return cls(c.x, c.y)

    def to_metres(self, geometry):
        return shapely.transform(geometry, lambda xy: np.column_stack(
            ((xy[:, 0] - self.lon0) * self.m_per_deg_lon, (xy[:, 1] - self.lat0) * self.m_per_deg_lat)))

    def to_degrees(self, geometry):
        return shapely.transform(geometry, lambda xy: np.column_stack(
            (xy[:, 0] / self.m_per_deg_lon + self.lon0, xy[:, 1] / self.m_per_deg_lat + self.lat0)))

    def xy(self, lon: float, lat: float) -> tuple[float, float]:
        return (lon - self.lon0) * self.m_per_deg_lon, (lat - self.lat0) * self.m_per_deg_lat


def buffer_m(geometry, metres: float):
    """`geometry` grown by `metres` on the ground, back in degrees."""
    plane = LocalPlane.around(geometry)
    return plane.to_degrees(plane.to_metres(geometry).buffer(metres, quad_segs=16))
