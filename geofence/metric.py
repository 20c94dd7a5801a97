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


_RAD = math.pi / 180.0  # the factor math.radians uses: results are bit-identical
_sin, _cos, _asin, _sqrt = math.sin, math.cos, math.asin, math.sqrt


def haversine_m(lat1: float, lon1: float, lat2: float, lon2: float) -> float:
    """Great-circle metres; called for most fixes, hence the local names."""
    p1, p2 = lat1 * _RAD, lat2 * _RAD
    a = _sin((p2 - p1) / 2) ** 2 + _cos(p1) * _cos(p2) * _sin((lon2 - lon1) * _RAD / 2) ** 2
    return 2 * EARTH_RADIUS_M * _asin(_sqrt(a) if a < 1.0 else 1.0)


_M_PER_DEG = EARTH_RADIUS_M * _RAD


def surely_within_m(lat1: float, lon1: float, lat2: float, lon2: float, metres: float) -> bool:
    """True only if the great-circle distance is below `metres` (False proves nothing).

    Haversine's distance is at most R * (|dlat| + |dlon|) in radians (|sin x| <= |x|,
    cos <= 1) times 1 + 1e-9 at these scales; the 1 % margin covers that many times over.
    Lets most fixes skip the trigonometry."""
    return (abs(lat2 - lat1) + abs(lon2 - lon1)) * _M_PER_DEG < 0.99 * metres


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
