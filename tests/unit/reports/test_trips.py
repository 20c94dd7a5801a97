"""Stops and trips of a track, by the rules' stop definition (no database)."""
from __future__ import annotations

from geofence.metric import haversine_m
from streams.rules.config import RuleConfig
from streams.rules.stops import StopSpan, stop_spans
from tracker.reports.trips import stops_and_trips

CFG = RuleConfig()
T0 = 1_764_547_200_000  # 2025-12-01T00:00Z
DEG_M = 111_195.0  # metres in a degree of latitude (haversine's sphere)


def fix(i: int, north_m: float, speed: float, every_s: int = 30) -> dict:
    return {"ts": T0 + i * every_s * 1000, "lat": 29.9 + north_m / DEG_M, "lon": 121.8, "speed_kmh": speed}


def itinerary(parts: list[tuple[str, int]]) -> list[dict]:
    """Fixes every 30 s: ("drive", n) moves 300 m a fix at 36 km/h, ("stop", n) stands still
    (with 10 m of GPS jitter and jittery speeds under the radius), ("halt", n) likewise."""
    fixes, north, i = [], 0.0, 0
    for what, n in parts:
        for k in range(n):
            if what == "drive":
                north += 300
                fixes.append(fix(i, north, 36.0))
            else:
                fixes.append(fix(i, north + (10 if k % 2 else 0), 7.0 if k % 3 == 2 else 0.0))
            i += 1
    return fixes


def test_the_rules_stop_logic_finds_each_stop_once_whatever_jitter():
    fixes = itinerary([("drive", 5), ("stop", 40), ("drive", 5), ("stop", 20)])
    assert stop_spans(fixes, CFG) == [StopSpan(5, 45), StopSpan(50, None)]


def test_a_day_of_two_stops_and_three_trips_matches_the_itinerary():
    fixes = itinerary([("drive", 10), ("stop", 40), ("drive", 20), ("halt", 2), ("drive", 6), ("stop", 30),
                       ("drive", 4)])
    stops, trips = stops_and_trips(fixes, CFG)
    # stops: 40 fixes from index 10 (20 min, ended by the fix at 50); 30 from index 78 (ended at 108)
    assert [(s.start, s.end) for s in stops] == [(fixes[10]["ts"], fixes[50]["ts"]), (fixes[78]["ts"], fixes[108]["ts"])]
    assert [(s.end - s.start) // 1000 for s in stops] == [1200, 900]
    # the 1-minute halt is part of the second trip
    assert [(t.start, t.end) for t in trips] == [(fixes[0]["ts"], fixes[10]["ts"]), (fixes[50]["ts"], fixes[78]["ts"]),
                                                 (fixes[108]["ts"], fixes[111]["ts"])]
    # a trip after a stop starts from the stop's place; distances along the fixes
    assert trips[1].origin == (fixes[10]["lat"], fixes[10]["lon"])
    assert abs(trips[0].distance_m - 9 * 300) < 1
    assert abs(trips[1].distance_m - 26 * 300) < 1  # the halt's 10 m of jitter there and back included
    assert abs(trips[2].distance_m - 4 * 300) < 1
    assert stops[0].distance_m == sum(haversine_m(a["lat"], a["lon"], b["lat"], b["lon"])
                                      for a, b in zip(fixes[10:50], fixes[11:50]))


def test_a_track_that_ends_stopped_ends_with_the_stop_so_far():
    fixes = itinerary([("drive", 3), ("stop", 10)])
    stops, trips = stops_and_trips(fixes, CFG)
    assert [(s.start, s.end) for s in stops] == [(fixes[3]["ts"], fixes[12]["ts"])]
    assert [(t.start, t.end) for t in trips] == [(fixes[0]["ts"], fixes[3]["ts"])]


def test_thresholds_come_from_the_rule_config():
    fixes = itinerary([("drive", 3), ("stop", 10), ("drive", 3)])  # a 5-minute stop
    assert len(stops_and_trips(fixes, CFG)[0]) == 1
    assert stops_and_trips(fixes, RuleConfig(no_stopping_s=600))[0] == []
    assert len(stops_and_trips(fixes, RuleConfig(no_stopping_s=600))[1]) == 1  # one trip through it


def test_nothing_or_one_fix():
    assert stops_and_trips([], CFG) == ([], [])
    assert stops_and_trips(itinerary([("drive", 1)]), CFG) == ([], [])
