"""`hazmat simulate`: a fleet of tankers driving around Beilun and posting to the API, as
carriers' gateways do, so a fresh system has something to show and to check.

Each vehicle drives from one random waypoint to the next at its own cruising speed (some
cruise above the 60 km/h default limit), and now and then parks for a few minutes. It
registers its carriers and vehicles (`PUT /v1/registry`, an upsert: running it again is
harmless), takes a gateway token per carrier, then posts each carrier's fixes every
interval, stamped with the wall clock. A rejected fix is logged with the API's reason.
"""
from __future__ import annotations

import asyncio
import logging
import math
import random
import time
from dataclasses import dataclass

import aiohttp

from geofence.metric import LocalPlane
from tracker.dev.scene import Scene

log = logging.getLogger(__name__)
# Beilun district and its surroundings (WGS-84): minLon, minLat, maxLon, maxLat.
AREA = (121.70, 29.80, 122.00, 30.00)


@dataclass
class Tanker:
    plate: str
    carrier_id: str
    lat: float
    lon: float
    cruise_kmh: float
    target: tuple[float, float] = (0.0, 0.0)
    parked_s: float = 0.0
    heading_deg: float = 0.0

    def advance(self, seconds: float, rng: random.Random) -> float:
        """Move `seconds` on; returns the speed reported (km/h)."""
        if self.parked_s > 0:
            self.parked_s -= seconds
            return 0.0
        plane = LocalPlane(self.lon, self.lat)
        east, north = plane.xy(self.target[1], self.target[0])
        left = math.hypot(north, east)
        step = self.cruise_kmh / 3.6 * seconds
        if left <= step:
            self.lat, self.lon = self.target
            self.target = random_point(rng)
            if rng.random() < 0.3:
                self.parked_s = rng.uniform(120, 1200)  # a delivery, a rest, a queue at a station
            return self.cruise_kmh * left / step if step else 0.0
        self.heading_deg = math.degrees(math.atan2(east, north)) % 360
        self.lat += north / left * step / plane.m_per_deg_lat
        self.lon += east / left * step / plane.m_per_deg_lon
        return self.cruise_kmh

    def fix(self, ts_ms: int, speed_kmh: float) -> dict:
        return {"plate": self.plate, "ts": ts_ms, "lat": round(self.lat, 7), "lon": round(self.lon, 7),
                "speed_kmh": round(speed_kmh, 1), "heading_deg": round(self.heading_deg, 1)}


def random_point(rng: random.Random) -> tuple[float, float]:
    return rng.uniform(AREA[1], AREA[3]), rng.uniform(AREA[0], AREA[2])


def fleet(vehicles: int, carriers: int, rng: random.Random) -> list[Tanker]:
    out = []
    for n in range(vehicles):
        lat, lon = random_point(rng)
        # One in ten cruises above the default limit: speeding to see on the map.
        cruise = rng.uniform(62, 80) if n % 10 == 9 else rng.uniform(30, 58)
        out.append(Tanker(f"浙BS{n:04d}", f"SIM{n % carriers:02d}", lat, lon, cruise, random_point(rng)))
    return out


def registry(tankers: list[Tanker]) -> dict:
    carriers = sorted({t.carrier_id for t in tankers})
    return {
        "carriers": [{"id": c, "name": f"Simulated carrier {c}"} for c in carriers],
        "vehicles": [{"plate": t.plate, "carrier_id": t.carrier_id, "tank_capacity_kg": 30000,
                      "hazard_classes": ["3"], "permit_valid_until": "2030-12-31",
                      "tank_inspection_valid_until": "2030-12-31"} for t in tankers],
        "drivers": [],
    }


class SimulationError(RuntimeError):
    """The API refused a request of the simulator; `status` is the HTTP status."""

    def __init__(self, message: str, status: int) -> None:
        super().__init__(message)
        self.status = status


async def _call(session: aiohttp.ClientSession, method: str, path: str, token: str, body) -> dict:
    async with session.request(method, path, json=body, headers={"Authorization": f"Bearer {token}"}) as response:
        answer = await response.json(content_type=None)
        if response.status >= 300:
            raise SimulationError(f"{method} {path}: {response.status} {answer}", response.status)
        return answer


async def simulate(api_url: str, admin_token: str, *, vehicles: int = 668, carriers: int = 25,
                   interval_s: float = 10.0, rounds: int | None = None, seed: int = 1,
                   scene: bool = False) -> dict[str, int]:
    """Run `rounds` rounds (None: until cancelled); the counts of fixes accepted, rejected
    and not accepted while the broker was unavailable (503: the next round tries again).
    `scene`: also the sample geofences, misbehaving vehicles and filling records
    (tracker.dev.scene)."""
    rng = random.Random(seed)
    tankers = fleet(vehicles, carriers, rng)
    counts = {"accepted": 0, "rejected": 0, "unavailable": 0}
    async with aiohttp.ClientSession(base_url=api_url.rstrip("/") + "/") as session:
        await _call(session, "PUT", "v1/registry", admin_token, registry(tankers))
        tokens = {}
        for carrier in sorted({t.carrier_id for t in tankers}):
            issued = await _call(session, "POST", "v1/tokens", admin_token,
                                 {"role": "gateway", "carrier_id": carrier, "label": f"simulator {carrier}"})
            tokens[carrier] = issued["token"]
        staged = await Scene.set_up(session, admin_token, tankers[0].carrier_id,
                                    [t.plate for t in tankers]) if scene else None
        log.info("simulating %d vehicles of %d carriers, a fix each every %s s", len(tankers), len(tokens), interval_s)
        done = 0
        while rounds is None or done < rounds:
            started = time.monotonic()
            now = int(time.time() * 1000)
            by_carrier: dict[str, list[dict]] = {}
            for t in tankers:
                by_carrier.setdefault(t.carrier_id, []).append(t.fix(now, t.advance(interval_s, rng)))
            if staged is not None:
                by_carrier[staged.carrier_id] += staged.fixes(now, interval_s)
            for carrier, fixes in by_carrier.items():
                try:
                    answer = await _call(session, "POST", "v1/fixes", tokens[carrier], fixes)
                except SimulationError as exc:
                    if exc.status != 503:
                        raise
                    log.warning("%d simulated fixes not accepted, the broker is unavailable: %s", len(fixes), exc)
                    counts["unavailable"] += len(fixes)
                    continue
                counts["accepted"] += answer["accepted"]
                counts["rejected"] += len(answer["rejected"])
                for item in answer["rejected"]:
                    log.error("simulated fix refused: %s %s", fixes[item["index"]], item["error"])
            done += 1
            if staged is not None:
                await staged.after_round(session, done)
            await asyncio.sleep(max(0.0, interval_s - (time.monotonic() - started)))
    return counts
