"""Terminal alarms: what a vehicle's terminal itself signals, beside where it is.

Decided from the fix's `alarm_flags` (JT/T 808 0x0200 alarm bits, or an HTTP gateway's)
and `active_safety` (苏标 ADAS/DSM alarms). A fix without `alarm_flags` says nothing
about the bits: it opens and closes nothing here (the stored track, which a late-fix
replay reads, keeps no bits, so a replay never closes an SOS). Pure, like the engine:
the same state and fix give the same events and ids.
"""
from __future__ import annotations

from streams.alarms import ALARM_FLAGS, COLLISION_BITS, FAULT_BITS, SAFETY_EVENTS, SOS_BITS, alarm_names
from streams.rules.config import RuleConfig
from streams.rules.state import VehicleState
from streams.rules.violations import CLOSED, OPENED, Violation, close_violation, open_violation

Event = tuple[str, Violation]


def terminal_alarms(state: VehicleState, fix: dict, cfg: RuleConfig) -> list[Event]:
    """The events of one fix, in event time after the vehicle's previous fix."""
    events: list[Event] = []
    flags = fix.get("alarm_flags")
    if flags is not None:
        _sos(state, fix, flags, events)
        _collision(state, fix, flags, cfg, events)
        _fault(state, fix, flags, cfg, events)
    for alarm in fix.get("active_safety") or ():
        _active_safety(state, fix, alarm, cfg, events)
    return events


def _opened(state: VehicleState, kind: str, fix: dict, started: int, **extra) -> Violation:
    return open_violation(kind, state.plate, state.carrier_id, started, fix["lat"], fix["lon"], **extra)


def _sos(state: VehicleState, fix: dict, flags: int, events: list[Event]) -> None:
    """Open on the first fix with the emergency bit, close on the first without it."""
    if flags & SOS_BITS and "sos" not in state.open:
        state.open["sos"] = violation = _opened(state, "sos", fix, fix["ts"],
                                                details={"speed_kmh": fix["speed_kmh"]})
        events.append((OPENED, violation))
    elif not flags & SOS_BITS and "sos" in state.open:
        events.append((CLOSED, close_violation(state.open.pop("sos"), fix["ts"])))


def _collision(state: VehicleState, fix: dict, flags: int, cfg: RuleConfig, events: list[Event]) -> None:
    """A collision or rollover warning: opened and closed at once, at most once per
    collision_repeat_s (the bit stays set while the terminal keeps reporting it)."""
    if not flags & COLLISION_BITS:
        return
    t, signals = fix["ts"], state.signals
    if signals.collision_ts is not None and t - signals.collision_ts < cfg.collision_repeat_s * 1000:
        return
    signals.collision_ts = t
    violation = _opened(state, "collision", fix, t, details={"alarms": alarm_names(flags & COLLISION_BITS),
                                                             "speed_kmh": fix["speed_kmh"]})
    events += [(OPENED, violation), (CLOSED, close_violation(violation, t, duration_s=0))]


def _fault(state: VehicleState, fix: dict, flags: int, cfg: RuleConfig, events: list[Event]) -> None:
    """GNSS module or antenna, main power: set on fixes spanning terminal_fault_s opens
    (from the first of them); clear for terminal_fault_s closes (from the first clear)."""
    t, hold, bits, signals = fix["ts"], cfg.terminal_fault_s * 1000, flags & FAULT_BITS, state.signals
    if bits:
        signals.fault_clear_ts = None
        if signals.fault_ts is None:
            signals.fault_ts, signals.fault_bits = t, 0
        signals.fault_bits |= bits
        violation = state.open.get("terminal_fault")
        if violation is not None:
            alarms = alarm_names(signals.fault_bits)
            if alarms != violation.details["alarms"]:  # a further fault while open
                state.open["terminal_fault"] = violation.noted(alarms=alarms)
        elif t - signals.fault_ts >= hold:
            state.open["terminal_fault"] = violation = _opened(
                state, "terminal_fault", fix, signals.fault_ts, details={"alarms": alarm_names(signals.fault_bits)})
            events.append((OPENED, violation))
        return
    if "terminal_fault" not in state.open:
        signals.fault_ts = None
        return
    if signals.fault_clear_ts is None:
        signals.fault_clear_ts = t
    if t - signals.fault_clear_ts >= hold:
        events.append((CLOSED, close_violation(state.open.pop("terminal_fault"), signals.fault_clear_ts)))
        signals.fault_ts = signals.fault_clear_ts = None
        signals.fault_bits = 0


def _active_safety(state: VehicleState, fix: dict, alarm: dict, cfg: RuleConfig, events: list[Event]) -> None:
    """An ADAS or DSM alarm (flag 0 or 1): opened and closed at once, one a vehicle and
    type within safety_repeat_s; level 2 is high, level 1 medium."""
    if alarm["flag"] not in ALARM_FLAGS or alarm["type"] in SAFETY_EVENTS:
        return
    t, key, signals = fix["ts"], f"{alarm['source']}:{alarm['type']}", state.signals
    last = signals.safety_ts.get(key)
    if last is not None and t - last < cfg.safety_repeat_s * 1000:
        return
    signals.safety_ts = {k: v for k, v in signals.safety_ts.items() if t - v < cfg.safety_repeat_s * 1000}
    signals.safety_ts[key] = t
    violation = _opened(state, "active_safety", fix, t, part=key,
                        severity="high" if alarm["level"] >= 2 else "medium",
                        details={"source": alarm["source"], "type": alarm["type"], "level": alarm["level"],
                                 "speed_kmh": alarm.get("speed_kmh", fix["speed_kmh"]),
                                 "alarm_id": alarm.get("alarm_id")})
    events += [(OPENED, violation), (CLOSED, close_violation(violation, t, duration_s=0))]
