"""Drive the rules engine like the worker does, with brute-force zones, for rule tests.
The events are kept in their wire form (the Violation of the contract), as consumers see them."""
from __future__ import annotations

import math
from datetime import datetime, timedelta, timezone

import shapely

from geofence.index import GeofenceIndex
from geofence.model import compile_geofence
from streams.rules.config import RuleConfig
from streams.rules.engine import Context, step, tick
from streams.rules.state import VehicleState
from streams.rules.waybills import ActiveWaybill, active

CST = timezone(timedelta(hours=8))
MONDAY_10 = int(datetime(2026, 11, 30, 10, 0, tzinfo=CST).timestamp() * 1000)
LAT0, LON0 = 29.90, 121.80
M_LAT = 1 / 110_574
M_LON = 1 / (111_320 * math.cos(math.radians(LAT0)))


def at(local: str) -> int:
    """Epoch ms of an Asia/Shanghai local time 'YYYY-MM-DD HH:MM[:SS]'."""
    return int(datetime.fromisoformat(local).replace(tzinfo=CST).timestamp() * 1000)


def offset(east_m: float = 0.0, north_m: float = 0.0) -> tuple[float, float]:
    return LAT0 + north_m * M_LAT, LON0 + east_m * M_LON


def fix(t: int, east_m: float = 0.0, north_m: float = 0.0, speed: float = 0.0) -> dict:
    lat, lon = offset(east_m, north_m)
    return {"plate": "P1", "carrier_id": "C1", "ts": t, "lat": lat, "lon": lon, "speed_kmh": speed, "heading_deg": 0}


def square(gid: str, kind: str, west_m: float, south_m: float, east_m: float, north_m: float, **props):
    s_lat, w_lon = offset(west_m, south_m)
    n_lat, e_lon = offset(east_m, north_m)
    ring = [[w_lon, s_lat], [e_lon, s_lat], [e_lon, n_lat], [w_lon, n_lat], [w_lon, s_lat]]
    return compile_geofence(gid, 1, {"type": "Polygon", "coordinates": [ring]}, {"kind": kind, "name": gid, **props})


def waybill(valid_from: int, valid_to: int, route_east_m: float = 20_000, **ends) -> ActiveWaybill:
    start, end = offset(0, 0), offset(route_east_m, 0)
    return ActiveWaybill(id="W1", plate="P1", un_number="1203", valid_from=valid_from, valid_to=valid_to,
                         origin=ends.get("origin", start), destination=ends.get("destination", end),
                         route={"type": "LineString", "coordinates": [[start[1], start[0]], [end[1], end[0]]]})


class Run:
    """The per-fix zones come from brute force (every geofence tested); the stop's centre
    is looked up through the H3 index as in the worker."""

    def __init__(self, geofences=(), waybills=(), config: RuleConfig | None = None) -> None:
        index = GeofenceIndex()
        for g in geofences:
            index.put(g)
        self.geofences = index.geofences
        self.waybills = list(waybills)
        self.ctx = Context(index, lambda plate, ts: active(self.waybills, ts), config or RuleConfig())
        self.state = VehicleState("P1")
        self.events: list[tuple[str, dict]] = []

    def zones(self, f: dict) -> frozenset[str]:
        return frozenset(g.id for g in self.geofences.values() if shapely.intersects_xy(g.area, f["lon"], f["lat"]))

    def feed(self, *fixes: dict) -> list[tuple[str, dict]]:
        new = []
        for f in fixes:
            new += [(t, v.wire()) for t, v in step(self.state, f, self.zones(f), self.ctx)]
        self.events += new
        return new

    def tick(self, now: int) -> list[tuple[str, dict]]:
        new = [(t, v.wire()) for t, v in tick(self.state, now, self.ctx)]
        self.events += new
        return new

    def kinds(self, kind: str | None = None) -> list[tuple[str, str]]:
        """(opened|closed, kind) in order."""
        return [(t.rsplit(".", 1)[1], v["kind"]) for t, v in self.events if kind in (None, v["kind"])]

    def last(self, kind: str) -> dict:
        return [v for _, v in self.events if v["kind"] == kind][-1]


def drive(t0: int, seconds: int, every: int = 10, speed: float = 50.0, east0: float = 0.0, north_m: float = 0.0):
    """Fixes of a vehicle driving east at `speed` from east0 metres."""
    return [fix(t0 + s * 1000, east0 + speed / 3.6 * s, north_m, speed) for s in range(0, seconds + 1, every)]


def park(t0: int, seconds: int, every: int = 30, east_m: float = 0.0, north_m: float = 0.0, jitter_m: float = 0.0):
    """Fixes of a parked vehicle; with jitter, positions wander and speed spikes as GPS does."""
    out = []
    for i, s in enumerate(range(0, seconds + 1, every)):
        wobble = jitter_m * math.sin(i * 1.7)
        spike = 9.0 if jitter_m and i % 5 == 3 else 0.0
        out.append(fix(t0 + s * 1000, east_m + wobble, north_m - wobble / 2, spike))
    return out
