"""Terminal alarms: sos, collision, terminal_fault and active_safety from the alarm bits
and 苏标 items of fixes, each threshold on both sides."""
from __future__ import annotations

from hypothesis import given, settings
from hypothesis import strategies as st

from streams.alarms import BIT_OF, FAULT_BITS, SOS_BITS
from streams.rules.replay import WITHDRAWABLE
from streams.rules.state import VehicleState
from streams.rules.violations import cloud_event
from tests.contracts import validate
from tests.unit.rules.harness import MONDAY_10, Run, fix

T = MONDAY_10
SEC = 1000


def flagged(t: int, flags: int, east_m: float = 0.0, **extra) -> dict:
    return {**fix(t, east_m, 0, 30), "alarm_flags": flags, **extra}


def safety(t: int, source: str = "adas", kind: str = "forward_collision", level: int = 2, flag: int = 1) -> dict:
    return flagged(t, 0, active_safety=[{"source": source, "type": kind, "level": level, "flag": flag,
                                         "speed_kmh": 62, "alarm_id": 5}])


def test_sos_opens_on_the_first_fix_with_the_bit_and_closes_on_the_first_without():
    run = Run()
    run.feed(flagged(T, 0), flagged(T + 10 * SEC, SOS_BITS), flagged(T + 20 * SEC, SOS_BITS | FAULT_BITS))
    assert run.kinds("sos") == [("opened", "sos")]
    opened = run.last("sos")
    assert opened["severity"] == "high" and opened["agencies"] == ["police", "emergency"]
    assert opened["started_at"].endswith("02:00:10.000Z")
    run.feed(flagged(T + 30 * SEC, 0))
    assert run.kinds("sos") == [("opened", "sos"), ("closed", "sos")]
    assert run.last("sos")["details"]["duration_s"] == 20
    for event_type, violation in run.events:
        validate("violation_event.schema.json", cloud_event(event_type, violation))


def test_fixes_without_alarm_flags_say_nothing_about_the_bits():
    run = Run()
    run.feed(flagged(T, SOS_BITS), fix(T + 10 * SEC), fix(T + 20 * SEC))
    assert run.kinds("sos") == [("opened", "sos")]


def test_collision_and_rollover_open_and_close_at_once_at_most_every_10_min():
    run = Run()
    collision = 1 << BIT_OF["collision_warning"]
    run.feed(*(flagged(T + s * SEC, collision) for s in range(0, 600, 30)))
    assert run.kinds("collision") == [("opened", "collision"), ("closed", "collision")]
    assert run.last("collision")["details"]["alarms"] == ["collision_warning"]
    run.feed(flagged(T + 600 * SEC, 1 << BIT_OF["rollover_warning"]))
    assert len(run.kinds("collision")) == 4
    assert run.last("collision")["details"]["alarms"] == ["rollover_warning"]
    assert run.last("collision")["agencies"] == ["police", "emergency"]


def test_terminal_fault_needs_60_s_of_fixes_with_the_bits_and_60_s_clear_to_close():
    run = Run()
    antenna, power = 1 << BIT_OF["gnss_antenna_cut"], 1 << BIT_OF["main_power_low"]
    run.feed(flagged(T, antenna), flagged(T + 59 * SEC, antenna), flagged(T + 70 * SEC, 0))
    assert run.kinds("terminal_fault") == []
    run.feed(flagged(T + 100 * SEC, antenna), flagged(T + 130 * SEC, power), flagged(T + 160 * SEC, antenna))
    assert run.kinds("terminal_fault") == [("opened", "terminal_fault")]
    opened = run.last("terminal_fault")
    assert opened["started_at"].endswith("02:01:40.000Z") and opened["agencies"] == ["transport"]
    assert opened["details"]["alarms"] == ["gnss_antenna_cut", "main_power_low"]
    run.feed(flagged(T + 170 * SEC, 0), flagged(T + 229 * SEC, 0), flagged(T + 235 * SEC, antenna))
    run.feed(flagged(T + 240 * SEC, 0), flagged(T + 299 * SEC, 0))
    assert run.kinds("terminal_fault") == [("opened", "terminal_fault")]
    run.feed(flagged(T + 300 * SEC, 0))
    closed = run.last("terminal_fault")
    assert closed["status"] == "closed" and closed["ended_at"].endswith("02:04:00.000Z")


def test_active_safety_level_gives_severity_and_one_violation_per_type_in_5_min():
    run = Run()
    run.feed(safety(T), safety(T + 60 * SEC), safety(T + 90 * SEC, "dsm", "fatigue", level=1))
    assert [v["details"]["type"] for t, v in run.events if t.endswith("opened")] == ["forward_collision", "fatigue"]
    adas, dsm = [v for t, v in run.events if t.endswith("opened")]
    assert adas["severity"] == "high" and adas["agencies"] == ["transport", "emergency"]
    assert dsm["severity"] == "medium" and dsm["agencies"] == ["transport"]
    assert adas["details"] == {"source": "adas", "type": "forward_collision", "level": 2, "speed_kmh": 62,
                               "alarm_id": 5}
    run.feed(safety(T + 299 * SEC), safety(T + 300 * SEC))
    assert len(run.kinds("active_safety")) == 6


def test_active_safety_ignores_end_flags_and_events_and_tells_two_types_at_once_apart():
    run = Run()
    run.feed(safety(T, flag=2), safety(T + SEC, "dsm", "driver_change"))
    assert run.kinds() == []
    both = flagged(T + 2 * SEC, 0, active_safety=[
        {"source": "adas", "type": "lane_departure", "level": 1, "flag": 0},
        {"source": "dsm", "type": "phone_call", "level": 1, "flag": 1}])
    run.feed(both)
    ids = {v["violation_id"] for _, v in run.events}
    assert len(ids) == 2


def test_a_jumping_fix_still_rings():
    run = Run()
    run.feed(flagged(T, 0), flagged(T + 10 * SEC, SOS_BITS, east_m=50_000))
    assert ("opened", "gps_jump") in run.kinds() and ("opened", "sos") in run.kinds()


def test_terminal_alarms_are_not_withdrawn_by_a_replay_of_the_stored_track():
    assert not {"sos", "collision", "terminal_fault", "active_safety"} & set(WITHDRAWABLE)


def test_a_stored_state_without_the_alarm_fields_still_loads():
    assert VehicleState.from_json({"plate": "P1", "last_ts": T}).signals.safety_ts == {}


@settings(max_examples=200, deadline=None)
@given(st.lists(st.tuples(st.integers(1, 120), st.booleans()), max_size=40))
def test_sos_is_open_exactly_while_the_last_flagged_fix_had_the_bit(steps):
    run, t = Run(), T
    for gap, pressed in steps:
        t += gap * SEC
        run.feed(flagged(t, SOS_BITS if pressed else 0))
        assert ("sos" in run.state.open) == pressed
    kinds = [k for k, _ in run.kinds("sos")]
    assert all(a != b for a, b in zip(kinds, kinds[1:]))  # opened and closed alternate
