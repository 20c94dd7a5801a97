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
- one shuttles from a lot through the 青峙 park's west gate to its filling station, read
  by the gate's camera each time it passes (its fixes match: no alarm),
- one drives with its terminal off: no fix, but the 霞浦 park's south gate reads it every
  READ_EVERY rounds (gps_missing, 有抓拍无轨迹),

and the filling stations post a record now and then (through the station API, one token
per station): a lawful-looking one, and one above the tank's capacity. The checkpoints
(`data/beilun_checkpoints.geojson`, the parks' gates) each get a camera token.
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
CHECKPOINTS = "beilun_checkpoints.geojson"
FILL_EVERY = 30  # rounds between two stations' filling records (5 min at 10 s a round)
READ_EVERY = 60  # rounds between two reads of the vehicle whose terminal is off (10 min)
READ_WITHIN_M = 60.0  # a camera reads a vehicle this close to it (a round moves 83 m at 30 km/h)


def sample_checkpoints() -> list[dict]:
    """The sample checkpoints (the chemical parks' gates), Point Features (WGS-84)."""
    return orjson.loads(resources.files("tracker.dev").joinpath("data", CHECKPOINTS).read_bytes())["features"]


def _gate(checkpoint_id: str) -> tuple[float, float]:
    lon, lat = next(f for f in sample_checkpoints() if f["id"] == checkpoint_id)["geometry"]["coordinates"]
    return lat, lon


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
    dark: bool = False  # its terminal is off: it sends no fix, cameras still read it
    where: tuple[float, float] = (0.0, 0.0)  # its last place

    def __post_init__(self) -> None:
        self.legs = [_metres(a, b) for a, b in zip(self.path, self.path[1:])]

    def fix(self, ts_ms: int, seconds: float) -> dict:
        if len(self.path) == 1:
            (lat, lon), heading, speed = self.path[0], 0.0, 0.0
        else:
            self.travelled_m += self.speed_kmh / 3.6 * seconds
            lat, lon, heading = self._where(self.travelled_m % (2 * sum(self.legs)))
            speed = self.speed_kmh
        self.where = (lat, lon)
        return {"plate": self.plate, "ts": ts_ms, "lat": round(lat, 7), "lon": round(lon, 7),
                "speed_kmh": speed, "heading_deg": round(heading, 1)}

    def go_on_from(self, lat: float, lon: float) -> None:
        """A shuttling actor resumes at the point of its way there and back nearest to
        (lat, lon), where it was last tracked (sampled every 10 m: once, at the start)."""
        if len(self.path) == 1:
            return
        way = 2 * sum(self.legs)
        steps = [i * 10.0 for i in range(int(way // 10) + 1)]
        self.travelled_m = min(steps, key=lambda m: _metres((lat, lon), self._where(m)[:2]))

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
        Actor("浙BS9905", [(29.9065, 121.8440), _gate("bl-gate-qingzhi"), (29.9250, 121.8800)],
              speed_kmh=30.0),                                            # lot - park gate - station
        Actor("浙BS9906", [_gate("bl-gate-xiapu")], dark=True),           # terminal off at the gate
    ]


class Scene:
    """Geofences loaded, actors registered to `carrier_id`, one token per filling station."""

    def __init__(self, carrier_id: str, stations: dict[str, str], plates: list[str]) -> None:
        self.carrier_id, self.stations, self.plates = carrier_id, stations, plates
        self.actors = actors()
        self.filled = 0
        self.cameras: dict[str, str] = {}  # checkpoint id -> its camera's token
        self.gates = {f["id"]: _gate(f["id"]) for f in sample_checkpoints()}
        self.last_read: dict[tuple[str, str], int] = {}  # (checkpoint, plate) -> round of the last read

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
        for checkpoint in sample_checkpoints():
            async with session.put(f"v1/checkpoints/{checkpoint['id']}", json=checkpoint, headers=headers) as response:
                response.raise_for_status()
            async with session.post("v1/tokens", headers=headers, json={
                    "role": "camera", "checkpoint_id": checkpoint["id"], "label": f"camera {checkpoint['id']}"}) as r:
                r.raise_for_status()
                scene.cameras[checkpoint["id"]] = (await r.json())["token"]
        log.info("scene: %d sample geofences, %d misbehaving vehicles, %d filling stations, %d checkpoints",
                 len(features), len(scene.actors), len(scene.stations), len(scene.cameras))
        return scene

    def resume(self, last: dict[str, tuple[float, float]]) -> None:
        """The actors go on from where they were last tracked (tracker.dev.simulate.resume)."""
        for actor in self.actors:
            if actor.plate in last:
                actor.go_on_from(*last[actor.plate])

    def fixes(self, ts_ms: int, seconds: float) -> list[dict]:
        out = [a.fix(ts_ms, seconds) for a in self.actors]
        return [f for f, a in zip(out, self.actors) if not a.dark]

    def reads(self, ts_ms: int, round_no: int) -> dict[str, list[dict]]:
        """Per checkpoint, the plate reads of this round: a vehicle within READ_WITHIN_M of
        the gate (once a pass), and the dark vehicle every READ_EVERY rounds."""
        out: dict[str, list[dict]] = {}
        for actor in self.actors:
            for cid, gate in self.gates.items():
                if _metres(actor.where, gate) > READ_WITHIN_M:
                    continue
                last = self.last_read.get((cid, actor.plate))
                if last is not None and round_no - last < (READ_EVERY if actor.dark else 6):
                    continue
                self.last_read[(cid, actor.plate)] = round_no
                out.setdefault(cid, []).append({"id": f"SIM-{cid}-{ts_ms}-{actor.plate[-4:]}", "checkpoint_id": cid,
                                                "plate": actor.plate, "ts": ts_ms, "confidence": 0.97,
                                                "plate_color": "yellow", "lane": 1})
        return out

    async def after_round(self, session: aiohttp.ClientSession, round_no: int, ts_ms: int) -> None:
        """The cameras' reads of the round; after the first round and every FILL_EVERY rounds,
        one station records a filling: alternately a plain one and one above the tank's
        capacity (filling_overload)."""
        for cid, reads in self.reads(ts_ms, round_no).items():
            async with session.post("v1/plate-reads", json=reads,
                                    headers={"Authorization": f"Bearer {self.cameras[cid]}"}) as response:
                if response.status >= 300:
                    log.warning("simulated plate reads refused: %s %s", response.status, await response.text())
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
