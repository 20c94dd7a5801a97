"""Issue 15's verdicts: stops judged by their centre, offline only while a trip is on,
offline displacement, and the details that explain each verdict."""
from __future__ import annotations

import math

import orjson
import shapely
from hypothesis import given, settings
from hypothesis import strategies as st

from geofence.model import BanWindow, compile_geofence
from streams.rules.config import RuleConfig
from streams.rules.engine import stop_centre
from tests.contracts import validate
from tests.unit.rules.harness import MONDAY_10, Run, at, drive, fix, offset, park, square, waybill

T = MONDAY_10
MIN = 60_000


# -- stops: the place is the stop's centre, with an edge tolerance -------------------------

def _zone(shape: str, size_m: float):
    """An allowed zone around the origin, as the rules compile it and as a metric polygon
    (metres east and north) to measure the truth against."""
    if shape == "station":
        lat, lon = offset(0, 0)
        g = compile_geofence("z", 1, {"type": "Point", "coordinates": [lon, lat]},
                             {"kind": "filling_station", "name": "z", "radius_m": size_m})
        return g, shapely.Point(0, 0).buffer(size_m, quad_segs=64)
    if shape == "lot":
        return square("z", "parking", -size_m, -size_m / 2, size_m, size_m / 2), \
            shapely.box(-size_m, -size_m / 2, size_m, size_m / 2)
    # a concave chemical park: an L
    ring_m = [(0, 0), (2 * size_m, 0), (2 * size_m, size_m / 2), (size_m / 2, size_m / 2),
              (size_m / 2, 2 * size_m), (0, 2 * size_m), (0, 0)]
    ring = [[offset(e, n)[1], offset(e, n)[0]] for e, n in ring_m]
    return compile_geofence("z", 1, {"type": "Polygon", "coordinates": [ring]}, {"kind": "chem_park", "name": "z"}), \
        shapely.Polygon(ring_m)


def _parked(truth: tuple[float, float], scatter: list[tuple[float, float]]):
    """A stop of 20 min at `truth` (metres), fixes every 30 s scattered by `scatter`."""
    stop = T + 2 * MIN
    fixes = drive(T, 100, east0=truth[0] - 1500, north_m=truth[1], speed=54)
    for i in range(41):
        de, dn = scatter[i % len(scatter)]
        fixes.append(fix(stop + i * 30_000, truth[0] + de, truth[1] + dn, 9.0 if i % 7 == 3 else 0.0))
    return fixes


scatters = st.lists(st.tuples(st.floats(0, 20), st.floats(0, 2 * math.pi)), min_size=5, max_size=41).map(
    lambda polar: [(r * math.cos(a), r * math.sin(a)) for r, a in polar])


@settings(max_examples=300, deadline=None)
@given(shape=st.sampled_from(["station", "lot", "park"]), size=st.floats(40, 300),
       east=st.floats(-700, 700), north=st.floats(-700, 700), scatter=scatters)
def test_a_stop_is_allowed_or_illegal_by_its_true_place_whatever_the_gps_scatter(shape, size, east, north, scatter):
    zone, truth_zone = _zone(shape, size)
    distance = truth_zone.distance(shapely.Point(east, north))
    run = Run([zone])
    run.feed(*_parked((east, north), scatter))
    flagged = run.kinds("illegal_parking") != []
    if distance == 0:
        assert not flagged, "a stop inside an allowed zone is never illegal, however its fixes scatter"
    elif distance >= 48:  # scatter 20 + tolerance 25 + the harness's projection's slack
        assert flagged, "a stop well outside every allowed zone is illegal"


def test_a_stop_at_a_lots_edge_with_fixes_on_both_sides_is_allowed_and_60_m_outside_is_not():
    lot = square("lot", "parking", -100, -100, 0, 100)  # its east edge at 0
    inside = [(-8 + 18 * math.cos(i), 15 * math.sin(i * 2.3)) for i in range(15)]  # a third of them outside
    assert sum(1 for e, _ in inside if e > 0) >= 4
    run = Run([lot])
    run.feed(*_parked((0, 0), inside))
    assert run.kinds("illegal_parking") == []
    run = Run([lot])
    run.feed(*_parked((60, 0), inside))
    (opened,) = [v for t, v in run.events if v["kind"] == "illegal_parking"]
    details = opened["details"]
    assert details["nearest_allowed"]["geofence_id"] == "lot" and 40 < details["nearest_allowed"]["distance_m"] < 70
    assert details["edge_tolerance_m"] == 25 and details["centre_of_fixes"] == 15
    assert abs(opened["lat"] - details["centre"]["lat"]) < 1e-9
    validate("violation.schema.json", opened)


def test_the_centre_is_the_median_of_an_odd_sample():
    assert stop_centre([1, 10, 2, 20, 300, 30, 4, 40]) == (2e-6, 20e-6)  # first three: (1,10) (2,20) (300,30)
    assert stop_centre([5_000_000, 7_000_000]) == (5.0, 7.0)


def test_no_stopping_is_judged_by_the_centre_so_scatter_out_of_the_zone_does_not_close_it():
    bridge = square("bridge", "no_stopping", -30, -30, 30, 30)
    run = Run([bridge])
    scatter = [(25 * math.cos(i), 25 * math.sin(i)) for i in range(9)]
    run.feed(*_parked((15, 0), scatter))
    assert run.kinds("no_stopping") == [("opened", "no_stopping")]
    assert run.last("no_stopping")["details"]["geofence_name"] == "bridge"
    run.feed(*drive(T + 30 * MIN, 60, east0=200))
    assert run.kinds("no_stopping") == [("opened", "no_stopping"), ("closed", "no_stopping")]


def test_a_stop_beside_a_no_stopping_zone_is_not_in_it():
    bridge = square("bridge", "no_stopping", -30, -30, 30, 30)
    run = Run([bridge])
    run.feed(*_parked((45, 0), [(18 * math.cos(i), 18 * math.sin(i)) for i in range(9)]))
    assert run.kinds("no_stopping") == []


# -- offline: only while a trip is on -------------------------------------------------------

def test_a_parked_vehicle_whose_waybill_ends_before_the_silence_reaches_20_min_stays_quiet():
    last = T + 5 * MIN
    for waybill_end, expected in ((last + MIN, []), (last + 20 * MIN - 1, []), (last + 20 * MIN + 1, ["offline"])):
        run = Run(waybills=[waybill(T - 3600_000, waybill_end)])
        run.feed(*park(T, 5 * 60))
        assert [v["kind"] for _, v in run.tick(last + 25 * MIN)] == expected, waybill_end


def test_the_gap_path_decides_offline_like_the_clock():
    last = T + 5 * MIN
    for waybill_end, expected in ((last + MIN, []), (last + 21 * MIN, ["offline", "offline"])):
        run = Run(waybills=[waybill(T - 3600_000, waybill_end)])
        run.feed(*park(T, 5 * 60))
        run.feed(fix(last + 40 * MIN))
        assert [v["kind"] for _, v in run.events if v["kind"] == "offline"] == expected


def test_offline_says_why_it_opened():
    run = Run(waybills=[waybill(T - 3600_000, T + 3600_000)])
    run.feed(*park(T, 60))
    (_, opened), = run.tick(T + 22 * MIN)
    details = opened["details"]
    assert details["because"] == "waybill_active" and details["waybill"]["id"] == "W1" and details["waybill"]["active"]
    assert details["silence_reached_at"] == "2026-11-30T02:21:00.000Z"
    run = Run()
    run.feed(*drive(T, 60))
    (_, opened), = run.tick(T + 22 * MIN)
    assert opened["details"]["because"] == "last_fix_moving" and opened["details"]["waybill"] is None
    validate("violation.schema.json", opened)


# -- offline displacement -----------------------------------------------------------------

def _displaced(gap_ms: int, east_m: float):
    run = Run()
    run.feed(*drive(T, 60))  # ends 833 m east
    run.feed(fix(T + 60_000 + gap_ms, 833.3 + east_m, 0, 40))
    return run


def test_offline_displacement_on_both_sides_of_each_threshold():
    assert _displaced(20 * MIN - 1000, 5000).kinds("offline_displacement") == []
    assert _displaced(20 * MIN, 1990).kinds("offline_displacement") == []
    run = _displaced(20 * MIN, 2010)
    assert run.kinds("offline_displacement") == [("opened", "offline_displacement"), ("closed", "offline_displacement")]
    closed = run.last("offline_displacement")
    assert closed["details"]["gap_s"] == 1200 and closed["details"]["duration_s"] == 1200
    assert 2000 < closed["details"]["distance_m"] < 2020
    assert closed["details"]["from"]["at"] == "2026-11-30T02:01:00.000Z"
    assert closed["details"]["to"]["at"] == "2026-11-30T02:21:00.000Z"
    assert closed["agencies"] == ["transport", "emergency"]
    validate("violation.schema.json", closed)
    assert [v["kind"] for _, v in run.events if v["kind"].startswith("offline")] == [
        "offline", "offline_displacement", "offline_displacement", "offline"]


def test_offline_displacement_threshold_is_configurable():
    run = Run(config=RuleConfig(offline_displacement_m=500))
    run.feed(*drive(T, 60))
    run.feed(fix(T + 25 * MIN, 1500, 0, 40))
    assert run.kinds("offline_displacement")[0] == ("opened", "offline_displacement")


# -- every verdict explained ----------------------------------------------------------------

def test_speeding_says_where_its_limit_comes_from():
    run = Run()
    run.feed(*drive(T, 40, every=5, speed=70))
    assert run.last("speeding")["details"]["limit_source"] == "default"
    run = Run([square("exp", "speed_zone", -100, -100, 50_000, 100, speed_limit_kmh=80)])
    run.feed(*drive(T, 40, every=5, speed=95))
    details = run.last("speeding")["details"]
    assert (details["limit_source"], details["limit_kmh"]) == ("zone", 80)


def test_restricted_road_names_the_zone_and_the_ban_window():
    g = square("road", "restricted_road", -20, -20, 5000, 20)
    window = BanWindow(days=(1, 2, 3, 4, 5), start_min=7 * 60, end_min=19 * 60)
    road = type(g)(**{**g.__dict__, "ban_windows": (window,)})
    run = Run([road])
    run.feed(*drive(T, 30, speed=40))
    details = run.last("restricted_road")["details"]
    assert details == {"geofence_name": "road", "ban_window": {"days": [1, 2, 3, 4, 5], "from": "07:00", "to": "19:00"},
                       "always_banned": False}
    run = Run([g])
    run.feed(*drive(at("2026-11-30 23:00"), 30, speed=40))
    assert run.last("restricted_road")["details"]["always_banned"] is True


def test_route_deviation_names_its_waybill():
    run = Run(waybills=[waybill(T - 3600_000, T + 3600_000)])
    run.feed(*drive(T, 120, speed=40, north_m=800))
    details = run.last("route_deviation")["details"]
    assert details["waybill"]["id"] == "W1" and details["waybill"]["active"] and details["open_m"] == 500


def test_a_stop_stored_by_an_older_version_without_a_sample_is_judged_at_its_anchor():
    from streams.rules.state import VehicleState
    run = Run()
    run.feed(*park(T, 60))
    old = orjson.loads(run.state.snapshot())
    old["stop"] = {k: v for k, v in old["stop"].items() if k not in ("stop_fixes", "stop_judged")}
    run.state = VehicleState.from_json(old)
    run.feed(*park(T + 120_000, 20 * 60))
    assert run.kinds("illegal_parking") == [("opened", "illegal_parking")]
