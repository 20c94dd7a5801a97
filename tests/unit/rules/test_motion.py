"""The live feed's moving/stopped follows the rules' own stop test."""
from __future__ import annotations

from streams.rules.config import RuleConfig
from tracker.api.live import Motions

CFG = RuleConfig()
M_LAT = 1 / 111_195  # degrees of latitude a metre


def fix(ts: int, north_m: float, speed: float) -> dict:
    return {"plate": "P", "ts": ts, "lat": 29.9 + north_m * M_LAT, "lon": 121.8, "speed_kmh": speed}


def test_a_stop_lasts_until_the_vehicle_is_away_whatever_jitter_says():
    m = Motions(CFG)
    seen = [m.status(fix(t * 1000, north, speed)) for t, (north, speed) in enumerate([
        (0, 40), (300, 3),       # drives, stops
        (310, 12), (340, 9),     # parked jitter: speeds above 5 km/h within 50 m
        (420, 8),                # 120 m away from where it stopped: moving
        (430, 2),                # stops again
        (420, 30),               # a late fix changes nothing
    ])]
    assert seen == ["moving", "stopped", "stopped", "stopped", "moving", "stopped", "stopped"]
    assert m.status(fix(3_000, 440, 1)) == "stopped"  # late (older than 6 s): the status it has


def test_a_slow_creep_beyond_the_stop_radius_stands_anew():
    m = Motions(CFG)
    assert [m.status(fix(t * 1000, north, 2)) for t, north in enumerate([0, 60, 120, 180])] == ["stopped"] * 4
    assert m.anchors["P"][0] == 29.9 + 180 * M_LAT
