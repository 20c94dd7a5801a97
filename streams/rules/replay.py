"""The pure decisions around late fixes (JT/T 808 blind-area back-fill, delayed uploads).

A late fix is older than its vehicle's newest: the worker goes back to the newest stored
checkpoint of the vehicle's rule state before it and runs the rules again over the
stored track with the late fix in place. These functions decide which vehicles need
that, which of the replay's events consumers must hear (most were sent before), and
when to take checkpoints; the worker only reads and writes what they name.
"""
from __future__ import annotations

from collections.abc import Iterable

from streams.rules.engine import Event
from streams.rules.state import VehicleState
from streams.rules.violations import CLOSED, OPENED, Violation, event_id, revise_violation, withdraw_violation
from streams.vocabulary import FIX_RULE_KINDS, TERMINAL_ALARM_KINDS

# Withdrawn when a replay no longer yields them. Not gps_jump: the jumping fix is kept out
# of the stored track, so a replay cannot see it again; nor the terminal alarms: the stored
# track keeps no alarm bits (its fixes carry no alarm_flags, so they change no alarm).
WITHDRAWABLE = tuple(k for k in FIX_RULE_KINDS if k != "gps_jump" and k not in TERMINAL_ALARM_KINDS)
WITHDRAWN_REASON = "late fixes show it did not happen"


def late_fixes(fixes: Iterable[dict], states: dict[str, VehicleState]) -> dict[str, int]:
    """Per vehicle with fixes older than its newest (blind-area back-fill), the oldest."""
    oldest: dict[str, int] = {}
    for f in fixes:
        state = states.get(f["plate"])
        if state is not None and state.last_ts is not None and f["ts"] < state.last_ts:
            oldest[f["plate"]] = min(f["ts"], oldest.get(f["plate"], f["ts"]))
    return oldest


def changed(stored: Violation, replayed: Violation) -> bool:
    """Does the replay's closed record say something else than the one stored and sent?"""
    def figures(violation: Violation) -> tuple:
        details = {k: v for k, v in violation.details.items() if k != "revised"}
        return violation.status, violation.ended_ms, details
    return figures(stored) != figures(replayed)


def reconcile(events: list[Event], replayed: Iterable[str], states: dict[str, VehicleState],
              stored: dict[str, Violation], sent: set[str]) -> tuple[list[Event], list[Violation]]:
    """A replay's events as consumers need them, and the violations it withdraws.

    `stored` holds the violations the replayed vehicles had open at, or began after, their
    checkpoints (what the replay re-decides); `sent`, which of the replay's event ids left
    before. Only new events leave, plus revisions of violations whose stored record the
    whole track changed (ended later, or goes on after all) and withdrawals of those the
    replay no longer yields (say `offline` across a gap the back-fill filled)."""
    out: list[Event] = []
    closed = {v.violation_id for t, v in events if t == CLOSED}
    for event_type, violation in events:
        known = stored.get(violation.violation_id)
        if event_id(violation, event_type) not in sent:
            out.append((event_type, violation))
        elif event_type == CLOSED and known is not None and changed(known, violation):
            out.append((CLOSED, revise_violation(violation)))
    decided = {v.violation_id for _, v in events}
    for plate in replayed:
        for violation in states[plate].open.values():
            decided.add(violation.violation_id)
            known = stored.get(violation.violation_id)
            if known is not None and known.status == "closed" and violation.violation_id not in closed:
                out.append((OPENED, revise_violation(violation)))  # it goes on after all
    withdrawn = [violation for violation_id, violation in stored.items() if violation_id not in decided]
    out += [(CLOSED, withdraw_violation(violation, WITHDRAWN_REASON)) for violation in withdrawn]
    return out, withdrawn


def due_checkpoints(touched: Iterable[str], states: dict[str, VehicleState],
                    every_ms: int) -> list[tuple[str, int, bytes]]:
    """(plate, event time, snapshot) to store: one every `every_ms` of a vehicle's event
    time, and the empty state before its first fix, so that a late fix anywhere in the
    window has one before it. Marks the states as checkpointed."""
    out = []
    for plate in touched:
        state = states[plate]
        if state.checkpoint_ts is None:
            out.append((plate, 0, VehicleState(plate).snapshot()))
        if state.last_ts is not None and (state.checkpoint_ts is None
                                          or state.last_ts - state.checkpoint_ts >= every_ms):
            state.checkpoint_ts = state.last_ts
            out.append((plate, state.last_ts, state.snapshot()))
    return out
