"""A deterministic fleet scenario with known violations, the events the pure core says it
must yield (the reference the worker tests compare with), and the plumbing to feed it."""
from __future__ import annotations

import asyncio
from dataclasses import replace
import time
import uuid

import asyncpg
import orjson

from geofence.index import GeofenceIndex
from streams.batch import process
from streams.kafka import Publisher
from streams.rules.config import RuleConfig
from streams.rules.engine import Context
from streams.rules.violations import event_id
from streams.rules.waybills import active
from streams.times import local_minute
from tests.client import fleet_body
from tracker.settings import RULE_PREFIX

M_LAT, M_LON = 1 / 110_574, 1 / 96_400


def fix_at(plate: str, carrier: str, t: int, east_m: float, north_m: float = 0.0, speed: float = 50.0) -> dict:
    """A normalised fix heading east, `east_m` / `north_m` metres from the scenarios' origin."""
    return {"plate": plate, "ts": t, "lat": 29.80 + north_m * M_LAT, "lon": 121.60 + east_m * M_LON,
            "speed_kmh": speed, "heading_deg": 90.0, "carrier_id": carrier, "received_at": t, "source": "http"}


def vehicle_fixes(plate: str, carrier: str, lane: int, t0: int, minutes: int = 10) -> list[dict]:
    """Every 10 s: 50 km/h, one minute at 75 (speeding opens and closes), 50 again, and the
    last two minutes standing still (so no offline when the stream ends)."""
    fixes, east = [], 0.0
    for s in range(0, minutes * 60 + 1, 10):
        if s >= (minutes - 2) * 60:
            speed = 0.0
        elif 120 <= s < 180:
            speed = 75.0
        else:
            speed = 50.0
        fixes.append(fix_at(plate, carrier, t0 + s * 1000, east, lane * 300, speed))
        east += speed / 3.6 * 10
    return fixes


def fleet_fixes(plates: list[str], carrier: str, t0: int | None = None) -> list[dict]:
    """All vehicles' fixes interleaved in time order, as gateways would deliver them.

    By default the stream ends now, so the worker's wall clock (used when it is idle)
    agrees with event time: no vehicle is silent long enough to be offline."""
    t0 = t0 if t0 is not None else int(time.time() * 1000) - 10 * 60_000
    fixes = [f for lane, plate in enumerate(plates) for f in vehicle_fixes(plate, carrier, lane, t0)]
    return sorted(fixes, key=lambda f: (f["ts"], f["plate"]))


def expected_event_ids(fixes: list[dict], config: RuleConfig = RuleConfig()) -> set[str]:
    outcome = process([dict(f) for f in fixes], {}, Context(GeofenceIndex(), lambda plate, ts: active([], ts), config))
    return {event_id(v, t) for t, v in outcome.events}


def messages(fixes: list[dict]) -> list[tuple[bytes, bytes]]:
    return [(f["plate"].encode(), orjson.dumps(f)) for f in fixes]


def plates(n: int) -> tuple[str, list[str]]:
    """A carrier id and `n` plates (浙Z and 5 or 6 letters and digits) unique to this run."""
    fleet, _ = fleet_body()
    digits = max(2, len(str(n - 1)))
    tag = uuid.uuid4().hex.upper()[:(5 if digits <= 3 else 6) - digits]
    return fleet.carriers[0], [f"浙Z{tag}{i:0{digits}d}" for i in range(n)]


async def register_carrier(url: str, carrier: str) -> None:
    conn = await asyncpg.connect(url)
    try:
        await conn.execute("INSERT INTO carriers (id, name) VALUES ($1, $1) ON CONFLICT DO NOTHING", carrier)
    finally:
        await conn.close()


async def publish_in_chunks(bootstrap: str, topic: str, fixes: list[dict], chunks: int, pause_s: float,
                            after_chunk=None) -> None:
    """Fixes straight onto the topic (the API path has its own tests), `chunks` at a time."""
    publisher = Publisher(bootstrap)
    size = -(-len(fixes) // chunks)
    try:
        for n, start in enumerate(range(0, len(fixes), size)):
            await publisher.publish(topic, messages(fixes[start:start + size]))
            if after_chunk is not None:
                await after_chunk(n)
            await asyncio.sleep(pause_s)
    finally:
        await publisher.close()


def windows_elsewhere(now_ms: int) -> RuleConfig:
    """Night driving and fatigue's night hours moved to a minute of the day that tracks of
    the hours before now never reach: the tests hold at any hour (02:00-05:00 Beijing
    time is night driving)."""
    m = (local_minute(now_ms) + 60) % 1440
    return replace(RuleConfig(), night_from_min=m, night_to_min=m + 1, fatigue_night_from_min=m,
                   fatigue_night_to_min=m + 1)


def windows_env(config: RuleConfig) -> dict[str, str]:
    """The night windows of `config` as the environment of a `hazmat` process started by a test."""
    return {f"{RULE_PREFIX}{name.upper()}": str(getattr(config, name))
            for name in ("night_from_min", "night_to_min", "fatigue_night_from_min", "fatigue_night_to_min")}
