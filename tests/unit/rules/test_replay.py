"""Replays: the same fixes give the same events however they are cut into batches and
however often the state is saved and loaded between batches (as a worker restart does)."""
from __future__ import annotations

import orjson
from hypothesis import given, settings
from hypothesis import strategies as st

from geofence.index import GeofenceIndex
from streams.batch import process
from streams.rules.config import RuleConfig
from streams.rules.engine import Context
from streams.rules.state import VehicleState
from tests.unit.rules.harness import MONDAY_10, Run, drive, fix, park, square

T = MONDAY_10
GEOFENCES = [square("bridge", "no_stopping", 2900, -50, 3100, 50), square("road", "restricted_road", 5000, -20, 8000, 20)]
STREAM = (drive(T, 180, every=5, speed=65) + park(T + 185_000, 20 * 60, every=20, east_m=3000, jitter_m=20)
          + drive(T + 1_500_000, 400, every=10, speed=70, east0=3300))


def events_of(run: Run) -> list[tuple[str, str, str | None]]:
    return [(t, v["violation_id"], v["ended_at"]) for t, v in run.events]


ONE_PASS = Run(GEOFENCES)
ONE_PASS.feed(*STREAM)


@settings(max_examples=200, deadline=None)
@given(st.lists(st.integers(min_value=1, max_value=len(STREAM) - 1), max_size=8, unique=True))
def test_batches_and_restarts_do_not_change_events(cuts):
    run = Run(GEOFENCES)
    bounds = [0, *sorted(cuts), len(STREAM)]
    for start, end in zip(bounds, bounds[1:]):
        run.feed(*STREAM[start:end])
        run.state = VehicleState.from_json(orjson.loads(run.state.snapshot()))
    assert events_of(run) == events_of(ONE_PASS)


def test_the_stream_raises_several_kinds():
    assert {v["kind"] for _, v in ONE_PASS.events} >= {"speeding", "no_stopping", "restricted_road"}


def test_state_stays_under_a_kilobyte():
    assert len(ONE_PASS.state.snapshot()) < 1024


# Moving, silent for 25 min, moving again: an offline violation from 10:03 to 10:28.
GAPPED = drive(T, 180, every=10, speed=40) + drive(T + 1_680_000, 120, every=10, speed=40, east0=2000)


@settings(max_examples=100, deadline=None)
@given(st.lists(st.tuples(st.integers(min_value=1, max_value=len(GAPPED) - 1), st.floats(0, 1)), max_size=6,
                unique_by=lambda c: c[0]))
def test_a_silence_gives_one_offline_violation_whatever_the_clock_saw(cuts):
    """Live, the clock (wall time) may run anywhere between a batch's last fix and the next
    fix; in a backlog or a replay the silence lies inside one batch. Same events either way."""
    one_pass = Run()
    one_pass.feed(*GAPPED)
    assert [k for k in one_pass.kinds() if k[1] == "offline"] == [("opened", "offline"), ("closed", "offline")]
    run = Run()
    bounds = sorted(cuts)
    start = 0
    for end, where in [*bounds, (len(GAPPED), 0.0)]:
        run.feed(*GAPPED[start:end])
        if end < len(GAPPED):
            last, following = GAPPED[end - 1]["ts"], GAPPED[end]["ts"]
            run.tick(last + int(where * (following - last)))
        start = end
    assert events_of(run) == events_of(one_pass)


def test_a_confirmed_jump_is_stored_so_that_a_replay_of_the_track_decides_the_same():
    """A spike stays out of the stored track; a jump the next fix confirms goes in, or a
    replay of the track (late fixes) would flag the confirming fix as a jump of its own."""
    spike = {**drive(T + 35_000, 0, east0=20_000)[0]}
    relocated = drive(T + 120_000, 60, speed=40, east0=9000)
    track = sorted(drive(T, 100, speed=40) + [spike] + relocated, key=lambda f: f["ts"])
    ctx = Context(GeofenceIndex(), lambda plate, ts: None, RuleConfig())
    live = process([dict(f) for f in track], {}, ctx)
    assert [f["ts"] for f in live.positions] == [f["ts"] for f in track if f is not spike]
    assert [v.started_ms for t, v in live.events if t.endswith("opened")] == [spike["ts"], relocated[0]["ts"]]
    replay = process([dict(f) for f in live.positions], {}, ctx)
    # The spike cannot be replayed (the worker never withdraws a gps_jump for that reason).
    relocation = [(t, v.violation_id) for t, v in live.events[2:]]
    assert [(t, v.violation_id) for t, v in replay.events] == relocation


def _replayed(live_track: list[dict], checkpoint_after: int, new: list[dict]) -> list[int]:
    """Times of the positions a replay stores: the live pass up to a checkpoint, then the
    stored track after it with `new` fixes (late or fresh) among them."""
    ctx = Context(GeofenceIndex(), lambda plate, ts: None, RuleConfig())
    states: dict = {}
    process([dict(f) for f in live_track[:checkpoint_after]], states, ctx)
    checkpoint = VehicleState.from_json(orjson.loads(states["P1"].snapshot()))
    stored = process([dict(f) for f in live_track[checkpoint_after:]], states, ctx).positions
    history = [{**{k: f[k] for k in ("plate", "ts", "lat", "lon", "speed_kmh", "heading_deg")}, "stored": True}
               for f in stored]  # as store.history reads the track back
    fixes = history + [dict(f) for f in new]
    return [f["ts"] for f in process(fixes, {"P1": checkpoint}, ctx).positions]


def test_a_late_fix_confirmed_by_a_stored_one_is_stored():
    live = drive(T, 60, speed=40) + [fix(T + 200_000, 9000, 0, 40), fix(T + 210_000, 9100, 0, 40)]
    late = fix(T + 150_000, 8800, 0, 40)  # a jump from the checkpoint, which the stored fix after it confirms
    assert _replayed(live, 7, [late]) == [late["ts"]]


def test_a_stored_fix_confirmed_by_a_new_one_is_not_stored_again():
    live = drive(T, 100, speed=54) + [fix(T + 135_000, 1650, 0, 54)]
    late = fix(T + 130_000, 1500, 1400, 54)  # reachable, but the stored fix after it is not
    fresh = fix(T + 145_000, 1750, 0, 54)  # agrees with that stored fix, not with the late one
    assert _replayed(live, 11, [late, fresh]) == [late["ts"], fresh["ts"]]


def test_an_opened_event_says_what_was_known_when_it_opened_whatever_the_batch():
    """Violations are values: the speeding opened at 30 s says 70 km/h even when the same
    batch goes on to 90 (when they were dicts edited in place, the opened event of a batch
    said the top speed at the batch's end)."""
    track = drive(T, 40, speed=70) + drive(T + 50_000, 40, speed=90, east0=800)
    ctx = Context(GeofenceIndex(), lambda plate, ts: None, RuleConfig())
    whole = process([dict(f) for f in track], {}, ctx).events
    states: dict = {}
    one_by_one = [e for f in track for e in process([dict(f)], states, ctx).events]
    assert [(t, v.wire()) for t, v in whole] == [(t, v.wire()) for t, v in one_by_one]
    assert [v.details["max_speed_kmh"] for _, v in whole] == [70]
    assert states["P1"].open["speeding"].details["max_speed_kmh"] == 90
