"""The demo's scene: illustrative Beilun geofences, and a few vehicles that break the rules
so the console has alarms to handle.

`hazmat up --simulate` and `hazmat simulate --geofences` load `data/beilun_geofences.geojson`
(approximate places: the three chemical parks, designated lots, filling stations, a road
closed at rush hours and one closed all day, a no-stopping zone by a school, an
expressway's 80 km/h zone) and `data/beilun_sites.geojson` (approximate places too: the
district's fire-rescue stations, enterprise fire teams, and the schools, kindergartens,
hospitals, elderly homes and homes near the chemical parks the incident desk checks its
zones against), and add these vehicles to the simulated fleet:

- one parks for good outside every lot and park (illegal parking after 15 min),
- one stands in the no-stopping zone (no_stopping after 2 min),
- one shuttles along the road closed all day (restricted_road),
- one drives the expressway at 100 km/h (speeding above its 80 km/h limit),

and the filling stations post a record now and then (through the station API, one token
per station): a lawful-looking one, and one above the tank's capacity.
"""
from __future__ import annotations

import logging
import math
from dataclasses import dataclass, field
from datetime import datetime, timedelta, timezone
from importlib import resources

import aiohttp
import orjson

from geofence.metric import LocalPlane

log = logging.getLogger(__name__)
GEOFENCES = "beilun_geofences.geojson"
SITES = "beilun_sites.geojson"
FILL_EVERY = 30  # rounds between two stations' filling records (5 min at 10 s a round)


def sample_geofences() -> list[dict]:
    """The sample geofence Features (WGS-84)."""
    return orjson.loads(resources.files("tracker.dev").joinpath("data", GEOFENCES).read_bytes())["features"]


def sample_sites() -> list[dict]:
    """The sample site Features (WGS-84), each marked `approximate`."""
    return orjson.loads(resources.files("tracker.dev").joinpath("data", SITES).read_bytes())["features"]


def _line(feature_id: str) -> list[tuple[float, float]]:
    """(lat, lon) points of a sample geofence's line."""
    feature = next(f for f in sample_geofences() if f["id"] == feature_id)
    return [(lat, lon) for lon, lat in feature["geometry"]["coordinates"]]


@dataclass
class Actor:
    """A vehicle that stands at one place (`path` of one point) or shuttles along `path`."""

    plate: str
    path: list[tuple[float, float]]
    speed_kmh: float = 0.0
    travelled_m: float = 0.0
    legs: list[float] = field(default_factory=list)

    def __post_init__(self) -> None:
        self.legs = [_metres(a, b) for a, b in zip(self.path, self.path[1:])]

    def fix(self, ts_ms: int, seconds: float) -> dict:
        if len(self.path) == 1:
            (lat, lon), heading, speed = self.path[0], 0.0, 0.0
        else:
            self.travelled_m += self.speed_kmh / 3.6 * seconds
            lat, lon, heading = self._where(self.travelled_m % (2 * sum(self.legs)))
            speed = self.speed_kmh
        return {"plate": self.plate, "ts": ts_ms, "lat": round(lat, 7), "lon": round(lon, 7),
                "speed_kmh": speed, "heading_deg": round(heading, 1)}

    def _where(self, along: float) -> tuple[float, float, float]:
        """The point `along` metres on the path there and back again, and the heading."""
        total = sum(self.legs)
        points = self.path if along <= total else self.path[::-1]
        legs = self.legs if along <= total else self.legs[::-1]
        along = along if along <= total else along - total
        for (a, b), leg in zip(zip(points, points[1:]), legs):
            if along <= leg:
                f = along / leg if leg else 0.0
                lat, lon = a[0] + (b[0] - a[0]) * f, a[1] + (b[1] - a[1]) * f
                east, north = LocalPlane(a[1], a[0]).xy(b[1], b[0])
                return lat, lon, math.degrees(math.atan2(east, north)) % 360
            along -= leg
        return points[-1][0], points[-1][1], 0.0


def _metres(a: tuple[float, float], b: tuple[float, float]) -> float:
    east, north = LocalPlane(a[1], a[0]).xy(b[1], b[0])
    return math.hypot(east, north)


def actors() -> list[Actor]:
    return [
        Actor("浙BS9901", [(29.8750, 121.8000)]),                         # parks outside every lot
        Actor("浙BS9902", [(29.8950, 121.8410)]),                         # in the school's no-stopping zone
        Actor("浙BS9903", _line("bl-road-centre"), speed_kmh=30.0),       # on the road closed all day
        Actor("浙BS9904", _line("bl-expressway"), speed_kmh=100.0),       # 100 on the expressway's 80
    ]


class Scene:
    """Geofences loaded, actors registered to `carrier_id`, one token per filling station."""

    def __init__(self, carrier_id: str, stations: dict[str, str], plates: list[str]) -> None:
        self.carrier_id, self.stations, self.plates = carrier_id, stations, plates
        self.actors = actors()
        self.filled = 0

    @classmethod
    async def set_up(cls, session: aiohttp.ClientSession, admin_token: str, carrier_id: str,
                     plates: list[str]) -> "Scene":
        headers = {"Authorization": f"Bearer {admin_token}"}
        features = sample_geofences()
        for feature in features:
            async with session.put(f"v1/geofences/{feature['id']}", json=feature, headers=headers) as response:
                if response.status >= 300:
                    raise RuntimeError(f"sample geofence {feature['id']}: {response.status} {await response.text()}")
        for feature in sample_sites():
            async with session.put(f"v1/sites/{feature['id']}", json=feature, headers=headers) as response:
                if response.status >= 300:
                    raise RuntimeError(f"sample site {feature['id']}: {response.status} {await response.text()}")
        scene = cls(carrier_id, {}, plates)
        registry = {"carriers": [], "drivers": [{"id": f"SIM-D{n}", "name": f"模拟司机{n}", "carrier_id": carrier_id,
                                                 "roles": ["driver"], "qualification_valid_until": "2030-12-31"}
                                                for n in range(2)],
                    "vehicles": [{"plate": a.plate, "carrier_id": carrier_id, "tank_capacity_kg": 30000,
                                  "hazard_classes": ["3"], "permit_valid_until": "2030-12-31",
                                  "tank_inspection_valid_until": "2030-12-31"} for a in scene.actors]}
        async with session.put("v1/registry", json=registry, headers=headers) as response:
            response.raise_for_status()
        for feature in features:
            station = feature["properties"].get("station_id")
            if station:
                async with session.post("v1/tokens", headers=headers, json={
                        "role": "station", "station_id": station, "label": f"simulator {station}"}) as response:
                    response.raise_for_status()
                    scene.stations[station] = (await response.json())["token"]
        log.info("scene: %d sample geofences, %d misbehaving vehicles, %d filling stations", len(features),
                 len(scene.actors), len(scene.stations))
        return scene

    def fixes(self, ts_ms: int, seconds: float) -> list[dict]:
        return [a.fix(ts_ms, seconds) for a in self.actors]

    async def after_round(self, session: aiohttp.ClientSession, round_no: int) -> None:
        """After the first round and every FILL_EVERY rounds, one station records a filling:
        alternately a plain one and one above the tank's capacity (filling_overload)."""
        if (round_no - 1) % FILL_EVERY or not self.stations:
            return
        station = sorted(self.stations)[self.filled % len(self.stations)]
        plate = self.plates[self.filled % len(self.plates)]
        now = datetime.now(timezone.utc) - timedelta(seconds=5)
        record = {"id": f"SIM-F{int(now.timestamp())}-{self.filled}", "station_id": station, "plate": plate,
                  "driver_id": "SIM-D0", "un_number": "1203", "hazard_class": "3",
                  "quantity_kg": 38000 if self.filled % 2 else 20000,
                  "filled_at": now.isoformat(timespec="seconds")}
        self.filled += 1
        async with session.post("v1/filling-records", json=record,
                                headers={"Authorization": f"Bearer {self.stations[station]}"}) as response:
            if response.status >= 300:
                log.warning("simulated filling record refused: %s %s", response.status, await response.text())
