"""One consumed batch through the core: decode, order per vehicle, geofence, rules.

Pure: the worker hands in decoded fixes and the states of their vehicles, and gets back
the positions to store and the events to emit.
"""
from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable
from dataclasses import dataclass, field

from streams.rules.engine import Context, Event, Step, confirmed_by, tick
from streams.rules.state import VehicleState


@dataclass
class Outcome:
    positions: list[dict] = field(default_factory=list)  # fixes to store, with "h3_cell"
    events: list[Event] = field(default_factory=list)
    touched: set[str] = field(default_factory=set)


def process(fixes: list[dict], states: dict[str, VehicleState], ctx: Context) -> Outcome:
    """Fixes of a batch, each vehicle's in event-time order (a device's blind-area upload
    may reach the broker in any order); H3 cells and geofences for the whole batch at once.
    Fixes marked "stored" (the track read back to replay late fixes into it) run the rules
    again but are not stored again; the mark stays with a fix kept out as a jump, so it is
    not stored twice when a later fix confirms it."""
    out = Outcome()
    if not fixes:
        return out
    index = ctx.index
    lats, lons = [f["lat"] for f in fixes], [f["lon"] for f in fixes]
    cells = index.cells(lats, lons)
    zones = index.containing(lats, lons, cells)
    by_plate: dict[str, list[int]] = defaultdict(list)
    times = [f["ts"] for f in fixes]
    for i, f in enumerate(fixes):
        f["h3_cell"] = cells[i]
        by_plate[f["plate"]].append(i)
    for plate, indexes in by_plate.items():
        state = states.get(plate)
        if state is None:
            state = states[plate] = VehicleState(plate)
        indexes.sort(key=times.__getitem__)
        for i in indexes:
            f = fixes[i]
            duplicate = state.last_ts == times[i]
            confirmed = state.jump.unconfirmed and confirmed_by(state, f, ctx.config)
            events = Step(state, f, zones[i], ctx).run()
            if events:
                out.events += events
                if events[-1][1].kind == "gps_jump":  # a jump stays out of the track
                    continue
            if confirmed and "stored" not in confirmed:  # ... unless the next fix confirms it
                out.positions.append(confirmed)
            if not duplicate and "stored" not in f:
                out.positions.append(f)
        out.touched.add(plate)
    return out


def tick_all(states: dict[str, VehicleState], clock: Callable[[str], int | None], ctx: Context) -> Outcome:
    """Timers of every vehicle at its own clock's time (None: not yet known)."""
    out = Outcome()
    for plate, state in states.items():
        now_ms = clock(plate)
        if now_ms is None:
            continue
        events = tick(state, now_ms, ctx)
        if events:
            out.events += events
            out.touched.add(plate)
    return out
