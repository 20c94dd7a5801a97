"""streams/rules/replay.py: which vehicles replay, what consumers hear after a replay,
and which checkpoints are due; on the rules harness, without a worker."""
from __future__ import annotations

from streams.rules.replay import WITHDRAWN_REASON, due_checkpoints, late_fixes, reconcile
from streams.rules.state import VehicleState
from streams.rules.violations import CLOSED, OPENED, Violation, close_violation, event_id, open_violation
from tests.unit.rules.harness import MONDAY_10, Run, drive, fix

T = MONDAY_10


def test_late_fixes_names_each_vehicle_with_its_oldest_late_fix():
    states = {"P1": VehicleState("P1", last_ts=T + 100_000), "P2": VehicleState("P2")}
    fixes = [fix(T + 50_000), fix(T + 20_000), fix(T + 200_000), {**fix(T), "plate": "P2"}, {**fix(T), "plate": "P3"}]
    assert late_fixes(fixes, states) == {"P1": T + 20_000}


def _violation(kind="speeding", started=T):
    return open_violation(kind, "P1", "C1", started, 29.9, 121.8)


def test_reconcile_sends_only_new_events_and_revisions_of_changed_records():
    old = _violation()
    stored_closed = close_violation(old, T + 60_000)
    replayed_closed = close_violation(old, T + 90_000)  # the whole track: it ended later
    new = _violation("night_driving", T + 10_000)
    events = [(OPENED, old), (CLOSED, replayed_closed), (OPENED, new)]
    sent = {event_id(old, OPENED), event_id(stored_closed, CLOSED)}
    out, withdrawn = reconcile(events, ["P1"], {"P1": VehicleState("P1")}, {old.violation_id: stored_closed}, sent)
    assert [(t, v.kind, v.details.get("revised", False)) for t, v in out] == [
        (CLOSED, "speeding", True), (OPENED, "night_driving", False)]
    assert withdrawn == []


def test_reconcile_withdraws_what_the_replay_no_longer_yields_and_reopens_what_goes_on():
    gone = _violation("offline")
    goes_on = _violation("illegal_parking", T + 5_000)
    state = VehicleState("P1", open={"illegal_parking": goes_on})
    stored = {gone.violation_id: gone, goes_on.violation_id: close_violation(goes_on, T + 50_000)}
    out, withdrawn = reconcile([], ["P1"], {"P1": state}, stored, set())
    assert withdrawn == [gone]
    kinds = [(t, v.kind, v.details.get("withdrawn_reason"), v.details.get("revised")) for t, v in out]
    assert kinds == [(OPENED, "illegal_parking", None, True), (CLOSED, "offline", WITHDRAWN_REASON, None)]


def test_a_back_filled_gap_withdraws_its_offline_displacement():
    """A vehicle silent 25 min that reappears 3 km away; the blind-area upload of the drive
    between fills the gap: the replay yields no displacement, so it is withdrawn."""
    start, back = drive(T, 60, speed=36), fix(T + 26 * 60_000, 600 + 3000, 0, 36)
    live = Run()
    live.feed(*start, back)
    displacement = live.last("offline_displacement")
    between = [fix(T + 60_000 + s * 1000, 600 + 3000 * s / 1500, 0, 7.2) for s in range(30, 1500, 30)]
    replay = Run()
    replay.feed(*start, *between, back)
    assert replay.kinds("offline_displacement") == []
    stored = {displacement["violation_id"]: Violation.from_wire(displacement)}
    events = [(t, Violation.from_wire(v)) for t, v in replay.events]
    out, withdrawn = reconcile(events, ["P1"], {"P1": replay.state}, stored,
                               {event_id(displacement, OPENED), event_id(displacement, CLOSED)})
    assert withdrawn == [stored[displacement["violation_id"]]] and out[-1][1].details["withdrawn"] is True


def test_due_checkpoints_take_the_empty_state_first_then_one_every_interval():
    state = VehicleState("P1", last_ts=T)
    first = due_checkpoints(["P1"], {"P1": state}, 60_000)
    assert [(plate, ts) for plate, ts, _ in first] == [("P1", 0), ("P1", T)]
    state.last_ts = T + 59_999
    assert due_checkpoints(["P1"], {"P1": state}, 60_000) == []
    state.last_ts = T + 60_000
    assert [ts for _, ts, _ in due_checkpoints(["P1"], {"P1": state}, 60_000)] == [T + 60_000]
