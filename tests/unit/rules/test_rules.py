"""Each vehicle rule: opening, closing, thresholds on both sides, jitter, windows."""
from __future__ import annotations

from dataclasses import replace

import orjson

from geofence.model import BanWindow
from streams.rules.config import RuleConfig
from tests.contracts import validate
from tests.unit.rules.harness import MONDAY_10, Run, at, drive, fix, park, square, waybill
from streams.rules.violations import CLOSED, Violation, cloud_event, event_id, revise_violation

T = MONDAY_10


def test_speeding_opens_after_30_s_above_and_closes_after_30_s_below():
    run = Run()
    run.feed(*drive(T, 29, every=1, speed=70))
    assert run.kinds("speeding") == []
    run.feed(*drive(T + 30_000, 0, speed=70, east0=600))
    assert run.kinds("speeding") == [("opened", "speeding")]
    opened = run.last("speeding")
    assert opened["started_at"] == "2026-11-30T02:00:00.000Z" and opened["details"]["limit_kmh"] == 60
    assert opened["agencies"] == ["police"]
    run.feed(*drive(T + 31_000, 29, every=1, speed=50, east0=620))
    assert run.kinds("speeding") == [("opened", "speeding")]
    run.feed(fix(T + 61_000, 1100, 0, 50))
    closed = run.last("speeding")
    assert closed["status"] == "closed" and closed["ended_at"] == "2026-11-30T02:00:31.000Z"
    assert closed["details"]["max_speed_kmh"] == 70 and closed["details"]["duration_s"] == 31


def test_speed_zone_limit_applies_inside_it():
    expressway = square("exp", "speed_zone", -100, -100, 50_000, 100, speed_limit_kmh=80)
    run = Run([expressway])
    run.feed(*drive(T, 120, speed=75))
    assert run.kinds("speeding") == []
    run.feed(*drive(T + 130_000, 40, speed=95, east0=3000))
    assert run.last("speeding")["geofence_id"] == "exp" and run.last("speeding")["details"]["limit_kmh"] == 80


def test_illegal_parking_after_15_min_outside_allowed_places_and_closes_on_moving_away():
    run = Run()
    run.feed(*drive(T, 60))
    stop = T + 70_000
    run.feed(*park(stop, 14 * 60 + 59, every=1 * 60 + 59, east_m=900))
    run.feed(fix(stop + 899_000, 900, 0, 0))
    assert run.kinds("illegal_parking") == []
    run.feed(fix(stop + 900_000, 900, 0, 0))
    assert run.kinds("illegal_parking") == [("opened", "illegal_parking")]
    run.feed(fix(stop + 960_000, 990, 0, 30))  # 90 m away: not yet
    assert run.kinds("illegal_parking") == [("opened", "illegal_parking")]
    run.feed(fix(stop + 970_000, 1010, 0, 30))
    closed = run.last("illegal_parking")
    assert closed["status"] == "closed" and closed["details"]["duration_s"] == 970


def test_parked_gps_jitter_does_not_end_a_stop():
    run = Run()
    run.feed(*park(T, 40 * 60, every=20, jitter_m=35))
    assert run.kinds("illegal_parking") == [("opened", "illegal_parking")]
    assert run.state.stop.anchor_ts == T


def test_no_illegal_parking_in_a_parking_lot_or_near_the_waybill_ends():
    lot = square("lot", "parking", -50, -50, 50, 50)
    run = Run([lot])
    run.feed(*park(T, 30 * 60))
    assert run.kinds() == []
    run = Run(waybills=[waybill(T - 3600_000, T + 3600_000)])
    run.feed(*park(T, 30 * 60, east_m=250))  # 250 m from the origin
    assert run.kinds("illegal_parking") == []


def test_no_stopping_after_2_min_inside_and_closes_on_leaving():
    bridge = square("bridge", "no_stopping", -50, -50, 50, 50)
    lot = square("lot", "parking", -60, -60, 60, 60)  # parking does not excuse a no-stopping zone
    run = Run([bridge, lot])
    run.feed(*park(T, 119, every=17))
    assert run.kinds("no_stopping") == []
    run.feed(fix(T + 120_000))
    assert run.kinds("no_stopping") == [("opened", "no_stopping")]
    assert run.last("no_stopping")["geofence_id"] == "bridge" and run.last("no_stopping")["severity"] == "high"
    run.feed(*drive(T + 130_000, 20, speed=40))
    assert run.kinds("no_stopping") == [("opened", "no_stopping"), ("closed", "no_stopping")]


def road(windows=None):
    props = {} if windows is None else {"ban_windows": windows}
    g = square("road", "restricted_road", -20, -20, 5000, 20)
    return type(g)(**{**g.__dict__, "ban_windows": None if windows is None else tuple(windows)}) if props else g


def test_restricted_road_needs_two_fixes_at_least_10_s_apart_and_two_outside_to_close():
    run = Run([road()])
    run.feed(fix(T, 10, 0, 40), fix(T + 5_000, 60, 0, 40))
    assert run.kinds("restricted_road") == []
    run.feed(fix(T + 10_000, 110, 0, 40))
    assert run.kinds("restricted_road") == [("opened", "restricted_road")]
    assert run.last("restricted_road")["started_at"] == "2026-11-30T02:00:00.000Z"
    run.feed(fix(T + 20_000, 200, 100, 40))
    assert run.kinds("restricted_road") == [("opened", "restricted_road")]
    run.feed(fix(T + 30_000, 300, 100, 40))
    assert run.kinds("restricted_road") == [("opened", "restricted_road"), ("closed", "restricted_road")]


def test_single_fix_inside_opens_nothing():
    run = Run([road()])
    run.feed(fix(T, 10, 0, 40), fix(T + 10_000, 10, 300, 40), fix(T + 20_000, 20, 0, 40), fix(T + 30_000, 30, 300, 40))
    assert run.kinds("restricted_road") == []


def test_ban_window_across_midnight_belongs_to_its_start_day():
    friday_night = [BanWindow((5,), 22 * 60, 6 * 60)]
    saturday_3am, saturday_7am, friday_3am = at("2026-12-05 03:00"), at("2026-12-05 07:00"), at("2026-12-04 03:00")
    for start, expected in ((saturday_3am, True), (saturday_7am, False), (friday_3am, False)):
        run = Run([road(friday_night)])
        run.feed(fix(start, 10, 0, 40), fix(start + 15_000, 200, 0, 40))
        assert bool(run.kinds("restricted_road")) is expected, start


def test_route_deviation_over_500_m_for_60_s_and_back_within_300_m():
    run = Run(waybills=[waybill(T - 3600_000, T + 3600_000)])
    run.feed(*drive(T, 60, speed=50, north_m=450))
    assert run.kinds("route_deviation") == []
    run.feed(*drive(T + 70_000, 59, speed=50, east0=1000, north_m=600))
    assert run.kinds("route_deviation") == []
    run.feed(fix(T + 130_000, 1900, 600, 50))
    assert run.kinds("route_deviation") == [("opened", "route_deviation")]
    assert run.last("route_deviation")["waybill_id"] == "W1"
    run.feed(fix(T + 140_000, 2000, 350, 50))
    assert len(run.kinds("route_deviation")) == 1
    run.feed(fix(T + 150_000, 2100, 290, 50))
    closed = run.last("route_deviation")
    assert closed["status"] == "closed" and closed["details"]["distance_m"] >= 600


def test_no_route_rule_outside_the_waybill_validity():
    run = Run(waybills=[waybill(T + 3600_000, T + 7200_000)])
    run.feed(*drive(T, 300, speed=50, north_m=2000))
    assert run.kinds("route_deviation") == []


def test_fatigue_after_4_h_without_a_20_min_stop_and_a_long_stop_closes_it():
    run = Run(config=RuleConfig(default_speed_limit_kmh=120))
    t = T - 2 * 3600_000  # 08:00 local
    run.feed(*drive(t, 2 * 3600, every=60, speed=60))
    run.feed(*park(t + 2 * 3600_000 + 60_000, 10 * 60, east_m=120_000))  # a 10 minute stop does not count
    run.feed(*drive(t + 2 * 3600_000 + 12 * 60_000, 2 * 3600 - 13 * 60, every=60, speed=60, east0=120_000))
    assert run.kinds("fatigue_driving") == []
    run.feed(*drive(t + 4 * 3600_000, 120, every=60, speed=60, east0=228_000))
    assert run.kinds("fatigue_driving") == [("opened", "fatigue_driving")]
    rest = t + 4 * 3600_000 + 180_000
    run.feed(*park(rest, 19 * 60, east_m=231_000))
    assert len(run.kinds("fatigue_driving")) == 1
    run.feed(fix(rest + 20 * 60_000, 231_000, 0, 0))
    assert run.kinds("fatigue_driving") == [("opened", "fatigue_driving"), ("closed", "fatigue_driving")]
    assert run.last("fatigue_driving")["agencies"] == ["transport", "emergency"]


def test_night_fatigue_after_2_h_between_22_and_06():
    run = Run(config=RuleConfig(default_speed_limit_kmh=120))
    run.feed(*drive(at("2026-11-30 21:30"), 30 * 60 + 2 * 3600 - 60, every=60, speed=60))
    assert run.kinds("fatigue_driving") == []
    run.feed(*drive(at("2026-12-01 00:00"), 120, every=60, speed=60, east0=150_000))
    assert run.kinds("fatigue_driving") == [("opened", "fatigue_driving")]


def test_night_driving_between_02_and_05_not_on_expressways_and_closed_at_05():
    run = Run()
    run.feed(*drive(at("2026-11-30 01:50"), 9 * 60, every=60))
    assert run.kinds("night_driving") == []
    run.feed(*drive(at("2026-11-30 02:00"), 60, every=60, east0=9000))
    assert run.kinds("night_driving") == [("opened", "night_driving")]
    run.feed(fix(at("2026-11-30 05:00:10"), 20_000, 0, 50))
    closed = run.last("night_driving")
    assert closed["ended_at"] == "2026-11-29T21:00:00.000Z"
    expressway = square("exp", "speed_zone", -100, -100, 50_000, 100, speed_limit_kmh=80)
    run = Run([expressway])
    run.feed(*drive(at("2026-11-30 03:00"), 600, every=60))
    assert run.kinds("night_driving") == []


def test_offline_after_20_min_silence_when_moving_and_closed_by_next_fix():
    run = Run()
    run.feed(*drive(T, 60))
    assert run.tick(T + 60_000 + 19 * 60_000 + 59_000) == []
    opened = run.tick(T + 60_000 + 20 * 60_000)
    assert [v["kind"] for _, v in opened] == ["offline"]
    assert opened[0][1]["started_at"] == "2026-11-30T02:01:00.000Z"
    assert run.tick(T + 3600_000) == []  # once
    run.feed(fix(T + 3600_000, 900, 0, 40))
    assert run.kinds("offline") == [("opened", "offline"), ("closed", "offline")]


def test_parked_vehicle_without_waybill_may_be_silent():
    run = Run()
    run.feed(*park(T, 60))
    assert run.tick(T + 3 * 3600_000) == []
    run = Run(waybills=[waybill(T - 3600_000, T + 3600_000)])
    run.feed(*park(T, 60))
    assert [v["kind"] for _, v in run.tick(T + 21 * 60_000 + 60_000)] == ["offline"]


def test_gps_jump_is_opened_and_closed_and_kept_out_of_state():
    run = Run()
    run.feed(fix(T, 0, 0, 40), fix(T + 10_000, 110, 0, 40))
    events = run.feed(fix(T + 20_000, 5000, 0, 40))
    assert [(t.rsplit(".", 1)[1], v["kind"]) for t, v in events] == [("opened", "gps_jump"), ("closed", "gps_jump")]
    assert events[1][1]["details"]["distance_m"] > 4800
    assert run.state.last_ts == T + 10_000
    assert run.feed(fix(T + 30_000, 250, 0, 40)) == []  # the next sane fix continues from the last good one


def test_two_fixes_that_agree_far_from_the_last_position_move_the_vehicle_there():
    """A terminal back on 5 km away, or a stale last position: the first fix there is a
    gps_jump, the second agrees with it and the rules follow the vehicle from there, rather
    than flagging every fix it sends from then on."""
    run = Run()
    run.feed(fix(T, 0, 0, 40), fix(T + 10_000, 110, 0, 40))
    run.feed(fix(T + 20_000, 5000, 0, 40))
    assert run.feed(fix(T + 30_000, 5110, 0, 40), fix(T + 40_000, 5220, 0, 40)) == []
    assert run.kinds("gps_jump") == [("opened", "gps_jump"), ("closed", "gps_jump")]
    assert run.state.last_ts == T + 40_000 and run.state.jump.unconfirmed is None


def test_a_resent_jump_confirms_nothing():
    run = Run()
    run.feed(fix(T, 0, 0, 40), fix(T + 10_000, 110, 0, 40))
    jump = fix(T + 20_000, 5000, 0, 40)
    run.feed(jump, dict(jump))
    assert run.state.last_ts == T + 10_000
    assert run.feed(fix(T + 30_000, 330, 0, 40)) == []


def test_two_jumps_that_disagree_are_two_gps_jumps():
    run = Run()
    run.feed(fix(T, 0, 0, 40), fix(T + 10_000, 110, 0, 40))
    run.feed(fix(T + 20_000, 5000, 0, 40), fix(T + 30_000, -5000, 0, 40))
    assert run.kinds("gps_jump") == [("opened", "gps_jump"), ("closed", "gps_jump")] * 2
    assert run.state.last_ts == T + 10_000
    assert run.feed(fix(T + 40_000, 330, 0, 40)) == [] and run.state.jump.unconfirmed is None


def test_a_fast_but_short_hop_is_not_a_jump():
    run = Run(config=RuleConfig(default_speed_limit_kmh=250))
    run.feed(fix(T, 0, 0, 40), fix(T + 1000, 900, 0, 40))  # 900 m in 1 s, but under 1 km
    assert run.kinds("gps_jump") == []


def test_duplicates_and_late_fixes_change_nothing():
    run = Run()
    run.feed(*drive(T, 60))
    before = orjson.loads(run.state.snapshot())
    assert run.feed(fix(T + 60_000, 1000, 0, 50), fix(T + 30_000, 400, 0, 50)) == []
    after = orjson.loads(run.state.snapshot())
    assert after.pop("late_fixes") == 1 and before.pop("late_fixes") == 0
    assert after == before


def test_violations_follow_the_carrier_the_registry_gave_each_fix():
    run = Run()
    run.feed(*drive(T, 40, speed=70), *drive(T + 50_000, 40, speed=50, east0=800))
    assert {v["carrier_id"] for _, v in run.events} == {"C1"}
    replayed = {k: v for k, v in fix(T + 100_000, 1400, 0, 70).items() if k != "carrier_id"}  # as read back
    moved = [dict(f, carrier_id="C2") for f in drive(T + 110_000, 40, speed=70, east0=1600)
             + drive(T + 160_000, 40, speed=50, east0=2500)]
    run.feed(replayed, *moved)
    assert run.state.carrier_id == "C2"
    assert [(t.rsplit(".", 1)[1], v["carrier_id"]) for t, v in run.events] == [
        ("opened", "C1"), ("closed", "C1"), ("opened", "C2"), ("closed", "C2")]


def test_events_are_contract_cloud_events_with_stable_ids():
    first, second = Run(), Run()
    for run in (first, second):
        run.feed(*drive(T, 60, every=5, speed=90))
    assert [v["violation_id"] for _, v in first.events] == [v["violation_id"] for _, v in second.events]
    for event_type, violation in first.events:
        validate("violation_event.schema.json", cloud_event(event_type, violation))


def test_offline_is_withdrawn_when_a_delayed_fix_shows_no_silence():
    run = Run()
    run.feed(*drive(T, 60))
    opened = run.tick(T + 60_000 + 25 * 60_000)  # the clock: 25 min without a fix
    assert [v["kind"] for _, v in opened] == ["offline"]
    events = run.feed(fix(T + 60_000 + 5 * 60_000, 300, 0, 40))  # ... but one from 5 min after arrives late
    assert [(t.rsplit(".", 1)[1], v["status"]) for t, v in events] == [("closed", "closed")]
    withdrawn = events[0][1]
    assert withdrawn["violation_id"] == opened[0][1]["violation_id"]
    assert withdrawn["details"]["withdrawn"] is True and withdrawn["details"]["duration_s"] == 0
    assert withdrawn["ended_at"] == withdrawn["started_at"]
    assert event_id(withdrawn, events[0][0]) == f"{withdrawn['violation_id']}.withdrawn"
    assert "offline" not in run.state.open
    validate("violation_event.schema.json", cloud_event(events[0][0], withdrawn))


def test_revisions_have_ids_of_their_own_that_follow_from_content():
    run = Run()
    run.feed(*drive(T, 60, speed=75), *drive(T + 70_000, 60, speed=50, east0=1500))
    closed = Violation.from_wire([v for t, v in run.events if t.endswith("closed") and v["kind"] == "speeding"][0])
    first, again = revise_violation(closed), revise_violation(replace(closed))
    later = revise_violation(replace(closed, ended_ms=closed.ended_ms + 60_000))
    ids = {event_id(v, CLOSED) for v in (first, again, later)}
    assert len(ids) == 2 and event_id(closed, CLOSED) not in ids
    assert all(i.startswith(f"{closed.violation_id}.closed.") for i in ids)
    validate("violation_event.schema.json", cloud_event(CLOSED, first))
