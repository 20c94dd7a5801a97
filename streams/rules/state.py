"""What the rules remember about one vehicle between fixes; stored as JSON with the offsets.

Kept small on purpose (< 1 KB a vehicle): the last fix, the violations now open, and one
small part per rule (its timers and counters), each read and written by its rule alone
(streams.rules.engine, streams.rules.signals). States stored by versions that kept every
rule's fields flat, with open violations in their wire form, load as well (`from_json`).
"""
from __future__ import annotations

from dataclasses import dataclass, field, fields

import orjson

from streams.rules.violations import Violation


@dataclass(slots=True)
class Stop:
    """Where and since when the vehicle stands (anchor_ts None while it drives)."""
    anchor_ts: int | None = None
    anchor_lat: float = 0.0
    anchor_lon: float = 0.0
    # The stop's first fixes as micro-degrees [lat, lon, lat, lon, ...]: its centre's sample.
    stop_fixes: list[int] = field(default_factory=list)
    stop_judged: int = 0  # which of the stop's verdicts are made (engine.JUDGED_* bits)


@dataclass(slots=True)
class Driving:
    """fatigue_driving: continuous driving since the last rest, and how much of it at night."""
    drive_start_ts: int | None = None
    night_drive_ms: int = 0  # driving between 22:00 and 06:00 local since the last rest


@dataclass(slots=True)
class Speeding:
    above_ts: int | None = None  # first fix above the limit
    below_ts: int | None = None  # first fix back below the limit
    max_speed: float = 0.0


@dataclass(slots=True)
class Route:
    deviation_ts: int | None = None  # first fix off the waybill's route


@dataclass(slots=True)
class Jump:
    # The last fix kept out as a gps_jump: if the next one agrees with it, the vehicle is
    # there (a terminal back on elsewhere, a stale last position) and the rules follow it.
    unconfirmed: dict | None = None


@dataclass(slots=True)
class Signals:
    """Terminal alarms (streams.rules.signals): the last collision opened; since when the
    fault bits have been set (and which), and since when clear while terminal_fault is
    open; the last active_safety opened per "source:type"."""
    collision_ts: int | None = None
    fault_ts: int | None = None
    fault_bits: int = 0
    fault_clear_ts: int | None = None
    safety_ts: dict[str, int] = field(default_factory=dict)


# Per part of the state, its field names (and so which flat keys of an older state are its).
PARTS = {"stop": Stop, "driving": Driving, "speeding": Speeding, "route": Route, "jump": Jump, "signals": Signals}
_OLD_KEYS = {f.name: part for part, cls in PARTS.items() for f in fields(cls)}


@dataclass(slots=True)
class VehicleState:
    plate: str
    carrier_id: str | None = None
    last_ts: int | None = None
    last_lat: float = 0.0
    last_lon: float = 0.0
    last_speed: float = 0.0
    open: dict[str, Violation] = field(default_factory=dict)  # key -> open violation
    late_fixes: int = 0  # fixes older than the last one that reached the rules (not replayed)
    checkpoint_ts: int | None = None  # event time of the newest stored checkpoint
    stop: Stop = field(default_factory=Stop)
    driving: Driving = field(default_factory=Driving)
    speeding: Speeding = field(default_factory=Speeding)
    route: Route = field(default_factory=Route)
    # restricted road id / incident id -> [first inside ts, consecutive inside, consecutive
    # outside] (restricted_road; incident_zone_entry, of the incident's zones)
    restricted: dict[str, list[int]] = field(default_factory=dict)
    incidents: dict[str, list[int]] = field(default_factory=dict)
    jump: Jump = field(default_factory=Jump)
    signals: Signals = field(default_factory=Signals)

    @property
    def stopped(self) -> bool:
        return self.stop.anchor_ts is not None

    @property
    def status(self) -> str:
        """What the map shows: offline while that violation is open, else stopped or moving."""
        return "offline" if "offline" in self.open else "stopped" if self.stopped else "moving"

    def snapshot(self) -> bytes:
        """The state as JSON text, ready to store (orjson writes the dataclasses, the
        violations among them, itself). Taken for every vehicle a batch touches: turning it
        into a dict here and into text again in the writer took twice the instructions
        (bench/RESULTS.md)."""
        return orjson.dumps(self)

    @classmethod
    def from_json(cls, data: dict) -> "VehicleState":
        """A stored state: this version's, or an older one's (every rule's fields flat, open
        violations as wire dicts with RFC 3339 times)."""
        data = dict(data)
        parts: dict[str, dict] = {name: data.pop(name) for name in PARTS if isinstance(data.get(name), dict)}
        for key in [k for k in data if k in _OLD_KEYS]:
            parts.setdefault(_OLD_KEYS[key], {})[key] = data.pop(key)
        data["open"] = {key: Violation.from_wire(v) if "started_at" in v else Violation(**v)
                        for key, v in data.get("open", {}).items()}
        return cls(**data, **{name: PARTS[name](**values) for name, values in parts.items()})
