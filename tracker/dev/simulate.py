"""`hazmat simulate`: a fleet of tankers driving around Beilun and posting to the API, as
carriers' gateways do, so a fresh system has something to show and to check.

Each vehicle drives from one random waypoint to the next at its own cruising speed (some
cruise above the 60 km/h default limit), and now and then parks for a few minutes. It
registers its carriers and vehicles (`PUT /v1/registry`, an upsert: running it again is
harmless), takes a gateway token per carrier, then posts each carrier's fixes every
interval, stamped with the wall clock. A rejected fix is logged with the API's reason.

With `protocol` "jt808" every vehicle is a JT/T 808 terminal of its own instead (one TCP
connection to the gateway: register, authenticate, a 0x0200 location report every
interval, half the terminals in 2013 framing and half in 2019); "mixed" splits the fleet
in two. With "jt809" every carrier reports through a monitoring platform of its own (one
JT/T 809 link per carrier, tracker.dev.fleet_platform); "mixed" also sends a fifth of the
carriers (when there are five or more) through platforms. Now and then a terminal drives into a tunnel: it keeps its positions while it
has no signal and, out again, sends them as a blind-area batch (0x0704 type 1), as real
terminals do. Rarely (SIGNAL_P a round) a terminal also signals: its driver presses SOS
(for 3 rounds), its antenna is cut (for 9 rounds: a terminal_fault) or its DSM camera
sees fatigue (a 0x65 item); and it answers each text (0x8300) with 0x0001.
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
from streams.alarms import BIT_OF, SOS_BITS
from streams.times import now_ms
from tracker.dev.fleet_platform import FleetPlatform
from tracker.dev.scene import Scene
from tracker.dev.simulation import PROTOCOLS, SimulationError
from tracker.dev.terminal import Terminal, TerminalError, location, safety_item

log = logging.getLogger(__name__)
BLIND_AREA = 1  # 0x0704 type: back-fill of positions kept while the terminal had no signal
# Beilun district and its surroundings (WGS-84): minLon, minLat, maxLon, maxLat.
AREA = (121.70, 29.80, 122.00, 30.00)
SIGNAL_P = 1 / 2000  # a terminal's chance a round to signal (SOS, antenna cut, DSM fatigue)
ANTENNA_CUT = 1 << BIT_OF["gnss_antenna_cut"]


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
    terminal_phone: str = ""
    mileage_km: float = 0.0

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
        self.mileage_km += step / 1000
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
        out.append(Tanker(f"浙BS{n:04d}", f"SIM{n % carriers:02d}", lat, lon, cruise, random_point(rng),
                          terminal_phone=f"1380000{n:04d}"))
    return out


def registry(tankers: list[Tanker]) -> dict:
    carriers = sorted({t.carrier_id for t in tankers})
    return {
        "carriers": [{"id": c, "name": f"Simulated carrier {c}"} for c in carriers],
        "vehicles": [{"plate": t.plate, "carrier_id": t.carrier_id, "tank_capacity_kg": 30000,
                      "hazard_classes": ["3"], "permit_valid_until": "2030-12-31",
                      "tank_inspection_valid_until": "2030-12-31", "terminal_phone": t.terminal_phone}
                     for t in tankers],
        "drivers": [],
    }


async def _call(session: aiohttp.ClientSession, method: str, path: str, token: str, body) -> dict:
    async with session.request(method, path, json=body, headers={"Authorization": f"Bearer {token}"}) as response:
        answer = await response.json(content_type=None)
        if response.status >= 300:
            raise SimulationError(f"{method} {path}: {response.status} {answer}", response.status)
        return answer


async def resume(session: aiohttp.ClientSession, admin_token: str, tankers: list[Tanker]) -> dict[str, tuple]:
    """Each tanker the system already tracks goes on from its last position there: a fleet
    started again (`hazmat up` restarted on the same database) would otherwise appear at
    its seed's places at once, and every tanker that had driven a kilometre since would be
    a gps_jump, an alarm about the simulator, not about a vehicle. Returns the positions
    (plate -> (lat, lon)) for the scene's vehicles to go on from too."""
    try:
        tracked = await _call(session, "GET", "v1/vehicles", admin_token, None)
    except (SimulationError, aiohttp.ClientError, asyncio.TimeoutError) as exc:
        log.warning("the simulated fleet starts from its seed's places: the last positions could not be read "
                    "(%.300s)", exc)
        return {}
    last = {f["properties"]["plate"]: tuple(f["geometry"]["coordinates"][::-1]) for f in tracked["features"]}
    for tanker in tankers:
        if tanker.plate in last:
            tanker.lat, tanker.lon = last[tanker.plate]
    log.info("%d of %d simulated vehicles go on from their last tracked position",
             sum(t.plate in last for t in tankers), len(tankers))
    return last


class SimulatedTerminal:
    """A tanker's JT/T 808 terminal: reports its position each round, keeps them while in a
    tunnel and back-fills them as a blind-area batch when it comes out."""

    def __init__(self, tanker: Tanker, version: str, address: tuple[str, int]) -> None:
        self.tanker = tanker
        self.terminal = Terminal(tanker.terminal_phone, version)
        self.address = address
        self.code: str | None = None
        self.connected = False
        self.tunnel_rounds = 0
        self.kept: list = []
        # Its own dice for signals, so the fleet's driving stays what a seed made it.
        self.signals = random.Random(tanker.terminal_phone)
        self.alarm_flags, self.alarm_rounds = 0, 0

    async def connect(self) -> None:
        await self.terminal.close()
        self.terminal = Terminal(self.tanker.terminal_phone, self.terminal.version)
        await self.terminal.connect(*self.address)
        if self.code is None or await self.terminal.authenticate(self.code) != 0:
            result, self.code = await self.terminal.register(self.tanker.plate)
            if result != 0:
                raise SimulationError(f"terminal {self.tanker.terminal_phone} ({self.tanker.plate}): registration "
                                      f"refused with result {result}", 0)
            if await self.terminal.authenticate(self.code) != 0:
                raise SimulationError(f"terminal {self.tanker.terminal_phone}: its new code was refused", 0)
        self.connected = True

    async def round(self, ts_ms: int, speed_kmh: float, rng: random.Random, tunnel_p: float,
                    tunnel_rounds: tuple[int, int], counts: dict[str, int]) -> None:
        t = self.tanker
        flags, safety = self.signal(t, speed_kmh)
        loc = location(t.lat, t.lon, ts_ms, speed_kmh=speed_kmh, heading_deg=round(t.heading_deg) % 360,
                       mileage_km=t.mileage_km, sats=rng.randint(6, 14), alarm_flags=flags, safety=safety)
        if self.tunnel_rounds == 0 and rng.random() < tunnel_p:
            self.tunnel_rounds = rng.randint(*tunnel_rounds)  # 30 s to 2 min at the default interval
        if self.tunnel_rounds > 0:
            self.tunnel_rounds -= 1
            self.kept.append(loc)
            return
        await self.send(loc, counts)

    def signal(self, t: Tanker, speed_kmh: float) -> tuple[int, dict[int, bytes] | None]:
        """This round's alarm bits and active-safety item, if the terminal signals."""
        if self.alarm_rounds > 0:
            self.alarm_rounds -= 1
            return self.alarm_flags, None
        if self.signals.random() >= SIGNAL_P:
            return 0, None
        what = self.signals.choice(("sos", "antenna", "fatigue"))
        log.info("simulated terminal %s (%s): %s", t.terminal_phone, t.plate, what)
        if what == "fatigue":
            return 0, {0x65: safety_item(t.lat, t.lon, type_code=1, level=self.signals.choice((1, 2)),
                                         speed_kmh=min(255, round(speed_kmh)), alarm_id=self.signals.getrandbits(31))}
        self.alarm_flags, self.alarm_rounds = (SOS_BITS, 2) if what == "sos" else (ANTENNA_CUT, 8)
        return self.alarm_flags, None

    async def send(self, loc, counts: dict[str, int]) -> None:
        """The positions kept in a tunnel as a blind-area batch, then `loc` (if any)."""
        try:
            if not self.connected:
                await self.connect()
            if self.kept:
                kept = self.kept[-400:]  # in pieces of 20 reports: one frame body (1 023 bytes) each
                for start in range(0, len(kept), 20):
                    piece = kept[start:start + 20]
                    self._count(await self.terminal.batch(BLIND_AREA, piece), len(piece), counts)
                self.kept = []
            if loc is not None:
                self._count(await self.terminal.report(loc), 1, counts)
        except (TerminalError, OSError) as exc:
            self.connected = False
            counts["unavailable"] += 1
            log.warning("simulated terminal %s: %s (reconnects next round)", self.tanker.terminal_phone, exc)

    def _count(self, result: int, n: int, counts: dict[str, int]) -> None:
        if result == 0:
            counts["accepted"] += n
        else:
            counts["unavailable"] += n
            log.warning("simulated terminal %s: report answered %d", self.tanker.terminal_phone, result)
            if result == 1:
                self.connected = False  # not authenticated any more (taken over, logged out): again


async def simulate(api_url: str, admin_token: str, *, vehicles: int = 668, carriers: int = 25,
                   interval_s: float = 10.0, rounds: int | None = None, seed: int = 1, protocol: str = "http",
                   jt808: tuple[str, int] = ("127.0.0.1", 7808), jt809: tuple[str, int] = ("127.0.0.1", 7809),
                   tunnel_p: float = 1 / 60,
                   tunnel_rounds: tuple[int, int] = (3, 12), scene: bool = False) -> dict[str, int]:
    """Run `rounds` rounds (None: until cancelled); the counts of fixes accepted, rejected
    and not accepted while the broker was unavailable (503: the next round tries again;
    for terminals: any answer but 0, or a lost connection, counted per position). Each
    round a terminal out of a tunnel enters one with probability `tunnel_p`, for a number
    of rounds in `tunnel_rounds`; after the last round, those still inside come out.
    `scene`: also the sample geofences, misbehaving vehicles (posting through the API) and
    filling records (tracker.dev.scene)."""
    if protocol not in PROTOCOLS:
        raise ValueError(f"protocol {protocol!r}: one of {', '.join(PROTOCOLS)}")
    rng = random.Random(seed)
    tankers = fleet(vehicles, carriers, rng)
    carrier_ids = sorted({t.carrier_id for t in tankers})
    by_platform = set(carrier_ids) if protocol == "jt809" else set(carrier_ids[4::5]) if protocol == "mixed" else set()
    platforms = [FleetPlatform(c, [t for t in tankers if t.carrier_id == c], n, jt809)
                 for n, c in enumerate(carrier_ids) if c in by_platform]
    others = [n for n, t in enumerate(tankers) if t.carrier_id not in by_platform]
    by_terminal = {"http": set(), "jt808": set(others), "jt809": set(), "mixed": set(others[1::2])}[protocol]
    counts = {"accepted": 0, "rejected": 0, "unavailable": 0}
    terminals = [SimulatedTerminal(t, "2019" if n % 4 == 3 else "2013", jt808)
                 for n, t in enumerate(tankers) if n in by_terminal]
    posting = [tankers[n] for n in others if n not in by_terminal]
    async with aiohttp.ClientSession(base_url=api_url.rstrip("/") + "/") as session:
        await _call(session, "PUT", "v1/registry", admin_token, registry(tankers))
        last = await resume(session, admin_token, tankers)
        tokens = {}
        for carrier in sorted({t.carrier_id for t in posting} | ({tankers[0].carrier_id} if scene else set())):
            issued = await _call(session, "POST", "v1/tokens", admin_token,
                                 {"role": "gateway", "carrier_id": carrier, "label": f"simulator {carrier}"})
            tokens[carrier] = issued["token"]
        connecting = asyncio.Semaphore(100)

        async def connect(terminal: SimulatedTerminal) -> None:
            async with connecting:
                await terminal.connect()

        await asyncio.gather(*(connect(t) for t in terminals))
        for platform in platforms:
            await _call(session, "PUT", f"v1/platforms/{platform.id}", admin_token, platform.account())
        await asyncio.gather(*(p.connect() for p in platforms))
        staged = await Scene.set_up(session, admin_token, tankers[0].carrier_id,
                                    [t.plate for t in tankers]) if scene else None
        if staged is not None:
            staged.resume(last)
        log.info("simulating %d vehicles of %d carriers (%d through JT/T 808 terminals at %s:%d, %d carriers through "
                 "JT/T 809 platforms at %s:%d), a fix each every %s s", len(tankers), len(carrier_ids), len(terminals),
                 *jt808, len(platforms), *jt809, interval_s)
        done = 0
        try:
            while rounds is None or done < rounds:
                started = time.monotonic()
                now = now_ms()
                by_carrier: dict[str, list[dict]] = {}
                for t in posting:
                    by_carrier.setdefault(t.carrier_id, []).append(t.fix(now, t.advance(interval_s, rng)))
                if staged is not None:
                    by_carrier.setdefault(staged.carrier_id, []).extend(staged.fixes(now, interval_s))
                reports = [t.round(now, t.tanker.advance(interval_s, rng), rng, tunnel_p, tunnel_rounds, counts)
                           for t in terminals]
                linked = [p.round(now, [t.advance(interval_s, rng) for t in p.tankers], counts) for p in platforms]
                await asyncio.gather(_post_all(session, tokens, by_carrier, counts), *reports, *linked)
                done += 1
                if staged is not None:
                    await staged.after_round(session, done, now)
                await asyncio.sleep(max(0.0, interval_s - (time.monotonic() - started)))
            await asyncio.gather(*(t.send(None, counts) for t in terminals if t.kept))
        finally:
            await asyncio.gather(*(t.terminal.close() for t in terminals), *(p.close() for p in platforms))
    return counts


async def _post_all(session: aiohttp.ClientSession, tokens: dict[str, str], by_carrier: dict[str, list[dict]],
                    counts: dict[str, int]) -> None:
    for carrier, fixes in by_carrier.items():
        try:
            answer = await _call(session, "POST", "v1/fixes", tokens[carrier], fixes)
        except (SimulationError, aiohttp.ClientError, asyncio.TimeoutError) as exc:
            # The server's trouble (a 5xx: the broker away, the process out of resources; no
            # answer at all) costs a round, never the fleet, which runs inside `hazmat up`:
            # the system it drives would go down with it. A 4xx is the simulator's own bug.
            if isinstance(exc, SimulationError) and exc.status < 500:
                raise
            log.warning("%d simulated fixes not accepted this round: %.300s", len(fixes), exc)
            counts["unavailable"] += len(fixes)
            continue
        counts["accepted"] += answer["accepted"]
        counts["rejected"] += len(answer["rejected"])
        for item in answer["rejected"]:
            log.error("simulated fix refused: %s %s", fixes[item["index"]], item["error"])
