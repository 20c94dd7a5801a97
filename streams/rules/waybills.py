"""Waybills as the rules need them: validity, the two ends and the approved route in metres."""
from __future__ import annotations

from dataclasses import dataclass, field

import shapely
from shapely.geometry import shape

from geofence.metric import LocalPlane, haversine_m


@dataclass
class ActiveWaybill:
    id: str
    plate: str
    un_number: str
    valid_from: int  # epoch ms
    valid_to: int
    origin: tuple[float, float]  # (lat, lon)
    destination: tuple[float, float]
    route: dict  # GeoJSON LineString
    _plane: LocalPlane = field(init=False, repr=False)
    _route_m: object = field(init=False, repr=False)

    def __post_init__(self) -> None:
        line = shape(self.route)
        self._plane = LocalPlane.around(line)
        self._route_m = self._plane.to_metres(line)
        shapely.prepare(self._route_m)

    def valid_at(self, ts: int) -> bool:
        return self.valid_from <= ts < self.valid_to

    def distance_from_route_m(self, lat: float, lon: float) -> float:
        x, y = self._plane.xy(lon, lat)
        return float(shapely.distance(self._route_m, shapely.Point(x, y)))

    def near_an_end(self, lat: float, lon: float, radius_m: float) -> bool:
        return any(haversine_m(lat, lon, p[0], p[1]) <= radius_m for p in (self.origin, self.destination))


def active(waybills: list[ActiveWaybill], ts: int) -> ActiveWaybill | None:
    """The waybill valid at ts (the latest-starting one when several overlap)."""
    valid = [w for w in waybills if w.valid_at(ts)]
    return max(valid, key=lambda w: w.valid_from) if valid else None
