"""Each partition's clock (streams.clock): verdicts on a vehicle's own partition's time.

The property: however partitions are interleaved (fetched unevenly, one held back), the
timers give the same verdicts as one partition read in time order, and none is withdrawn.
"""
from __future__ import annotations

from hypothesis import given, settings
from hypothesis import strategies as st

from geofence.index import GeofenceIndex
from streams.batch import process, tick_all
from streams.clock import PartitionClock, WindowClocks, advance_all, window_due
from streams.rules.config import RuleConfig
from streams.rules.engine import Context
from streams.rules.violations import event_id
from tests.unit.rules.harness import MONDAY_10, offset

MINUTE = 60_000
CTX = Context(GeofenceIndex(), lambda plate, ts: None, RuleConfig())


def test_event_time_bounded_by_receipt():
    clock = PartitionClock()
    clock.advance(MONDAY_10, MONDAY_10 + 2_000)
    assert clock.now(MONDAY_10 + 9 * MINUTE, quiet=False) == MONDAY_10
    clock.advance(MONDAY_10 + 4 * MINUTE + 10_000, MONDAY_10 + 10_000)  # a terminal 4 min fast
    assert clock.event_ms == MONDAY_10 + 10_000
    clock.advance(MONDAY_10 + 5_000, MONDAY_10 + 20_000)  # older than the newest: no change
    assert clock.event_ms == MONDAY_10 + 10_000


def test_quiet_partition_goes_on_at_the_wall_clocks_pace_from_its_newest_fix():
    live, backlog = PartitionClock(), PartitionClock()
    live.advance(MONDAY_10, MONDAY_10 + 1_000)
    backlog.advance(MONDAY_10 - 5 * 60 * MINUTE, MONDAY_10)  # received 5 h after it was taken
    wall = MONDAY_10 + 3 * MINUTE
    assert live.now(wall, quiet=True) == wall - 1_000  # received 1 s after it was taken
    assert backlog.now(wall, quiet=True) == MONDAY_10 - 5 * 60 * MINUTE + 3 * MINUTE  # still 5 h behind
    assert PartitionClock().now(wall, quiet=True) == wall
    assert PartitionClock().now(wall, quiet=False) is None


END = MONDAY_10 + 15 * MINUTE
WAIT = 10 * MINUTE


def test_window_due_on_the_vehicles_or_its_partitions_time():
    assert window_due(END, WindowClocks(vehicle_last_ms=END, known=True), 0, WAIT)
    assert window_due(END, WindowClocks(partition_event_ms=END, known=True), 0, WAIT)
    assert not window_due(END, WindowClocks(vehicle_last_ms=END - 1, partition_event_ms=END - 1, known=True),
                          END + 10 * WAIT, WAIT)  # a backlog in its partition: waited for, whatever the wall
    assert not window_due(END, WindowClocks(partition_event_ms=END - 1, quiet_clock_ms=END + WAIT - 1, known=True),
                          END + 10 * WAIT, WAIT)
    assert window_due(END, WindowClocks(partition_event_ms=END - 1, quiet_clock_ms=END + WAIT, known=True), 0, WAIT)
    assert not window_due(END, WindowClocks(), END + WAIT - 1, WAIT)  # no fix worker ever heard of it
    assert window_due(END, WindowClocks(), END + WAIT, WAIT)


def home(plate: str) -> int:
    return int(plate[1:]) % 3


@st.composite
def fleets(draw):
    """Vehicles on three partitions driving east every minute for two hours, some with
    silences (a terminal off for 5-40 min); the fixes received late or on time."""
    fixes = []
    for v in range(draw(st.integers(2, 6))):
        plate, t, east = f"P{v}", MONDAY_10 + draw(st.integers(0, 10)) * MINUTE, 0.0
        lag = draw(st.sampled_from([0, 5_000, 6 * 60 * MINUTE]))
        while t < MONDAY_10 + 120 * MINUTE:
            lat, lon = offset(east, v * 300.0)
            fixes.append({"plate": plate, "carrier_id": "C1", "ts": t, "lat": lat, "lon": lon, "speed_kmh": 30.0,
                          "heading_deg": 90, "received_at": t + lag})
            east += 500
            t += draw(st.sampled_from([MINUTE] * 12 + [5 * MINUTE, 25 * MINUTE, 40 * MINUTE]))
    fixes.sort(key=lambda f: f["ts"])
    return fixes


def run(fixes: list[dict], order: list[int] | None, step: int) -> set[str]:
    """The event ids of `fixes` handled `step` fixes at a time, each partition in time
    order, the partitions taken in `order` (None: one partition, all in time order), the
    timers ticked after every piece and once at the end when the fleet is quiet."""
    states, events = {}, []
    clocks: dict[int, PartitionClock] = {}
    queues = {p: [f for f in fixes if home(f["plate"]) == p] for p in range(3)}
    pieces = [fixes[i:i + step] for i in range(0, len(fixes), step)] if order is None else []
    for p in order or []:
        if queues[p]:
            pieces.append(queues[p][:step])
            queues[p] = queues[p][step:]
    pieces += [q[i:i + step] for q in queues.values() for i in range(0, len(q), step)] if order else []
    partition_of = (lambda plate: 0) if order is None else home
    for piece in pieces:
        out = process([dict(f) for f in piece], states, CTX)
        advance_all(clocks, piece, partition_of)
        out.events += tick_all(states, lambda plate: clocks[partition_of(plate)].now(0, quiet=False), CTX).events
        events += out.events
    end = MONDAY_10 + 200 * MINUTE
    events += tick_all(states, lambda plate: end, CTX).events
    assert not any(v.details.get("withdrawn") for _, v in events), "a violation opened and withdrawn"
    return {event_id(v, t) for t, v in events}


@settings(max_examples=60, deadline=None)
@given(fleets(), st.lists(st.integers(0, 2), max_size=200), st.integers(1, 40))
def test_any_interleaving_of_partitions_gives_the_verdicts_of_one_partition_in_time_order(fixes, order, step):
    assert run(fixes, order or [0], step) == run(fixes, None, 1)


def neighbours(received_at) -> list[tuple[str, dict]]:
    """Two vehicles on one partition reporting every minute; P0 is silent for 18 min (not
    offline), P3's terminal clock runs 4 min fast."""
    fixes = []
    for k in range(60):
        t = MONDAY_10 + k * MINUTE
        for plate, skew in (("P0", 0), ("P3", 4 * MINUTE)):
            if plate == "P0" and 20 < k < 38:
                continue
            lat, lon = offset(k * 500.0)
            fixes.append({"plate": plate, "carrier_id": "C1", "ts": t + skew, "lat": lat, "lon": lon,
                          "speed_kmh": 30.0, "heading_deg": 90, "received_at": received_at(t, skew)})
    states, clocks, events = {}, {}, []
    for f in fixes:
        events += process([dict(f)], states, CTX).events
        advance_all(clocks, [f], home)
        events += tick_all(states, lambda plate: clocks[home(plate)].now(0, quiet=False), CTX).events
    return events


def test_a_neighbour_four_minutes_fast_times_nobody_out():
    """Taken at its word, P3's time reaches P0's 20 minutes of silence 2 min before P0
    reports again: an offline opened, then withdrawn (a false alarm). Bounded by when it
    was received, it does not."""
    assert neighbours(lambda t, skew: t + 1_000) == []
    taken_at_its_word = neighbours(lambda t, skew: t + skew)
    assert [(v.kind, v.details.get("withdrawn")) for _, v in taken_at_its_word] == [
        ("offline", None), ("offline", True)]
