"""What the rules remember about one vehicle between fixes; stored as JSON with the offsets.

Kept small on purpose (< 1 KB a vehicle): the last fix, the stop anchor, a few timers,
and the violations now open.
"""
from __future__ import annotations

from dataclasses import dataclass, field

import orjson


@dataclass(slots=True)
class VehicleState:
    plate: str
    carrier_id: str | None = None
    last_ts: int | None = None
    last_lat: float = 0.0
    last_lon: float = 0.0
    last_speed: float = 0.0
    # Where and since when the vehicle stands; None while it drives.
    anchor_ts: int | None = None
    anchor_lat: float = 0.0
    anchor_lon: float = 0.0
    # The stop's first fixes as micro-degrees [lat, lon, lat, lon, ...]: its centre's sample.
    stop_fixes: list[int] = field(default_factory=list)
    stop_judged: int = 0  # which of the stop's verdicts are made (engine.JUDGED_* bits)
    drive_start_ts: int | None = None  # continuous driving since the last rest
    night_drive_ms: int = 0  # driving between 22:00 and 06:00 local since the last rest
    above_ts: int | None = None  # speeding: first fix above the limit
    below_ts: int | None = None  # speeding: first fix back below the limit
    max_speed: float = 0.0
    deviation_ts: int | None = None
    # restricted road id -> [first inside ts, consecutive inside, consecutive outside]
    restricted: dict[str, list[int]] = field(default_factory=dict)
    # incident id -> [first inside ts, consecutive inside, consecutive outside] (its zones)
    incidents: dict[str, list[int]] = field(default_factory=dict)
    open: dict[str, dict] = field(default_factory=dict)  # key -> open violation
    # The last fix kept out as a gps_jump: if the next one agrees with it, the vehicle is
    # there (a terminal back on elsewhere, a stale last position) and the rules follow it.
    unconfirmed: dict | None = None
    late_fixes: int = 0  # fixes older than the last one that reached the rules (not replayed)
    checkpoint_ts: int | None = None  # event time of the newest stored checkpoint
    # Terminal alarms (streams.rules.signals): the last collision opened; since when the
    # fault bits have been set (and which), and since when clear while terminal_fault is
    # open; the last active_safety opened per "source:type".
    collision_ts: int | None = None
    fault_ts: int | None = None
    fault_bits: int = 0
    fault_clear_ts: int | None = None
    safety_ts: dict[str, int] = field(default_factory=dict)

    @property
    def stopped(self) -> bool:
        return self.anchor_ts is not None

    @property
    def status(self) -> str:
        """What the map shows: offline while that violation is open, else stopped or moving."""
        return "offline" if "offline" in self.open else "stopped" if self.stopped else "moving"

    def snapshot(self) -> bytes:
        """The state as JSON text: detached (later steps mutate open violations in place)
        and ready to store. Taken for every vehicle a batch touches: turning it back into
        a dict here and into text again in the writer took twice the instructions
        (bench/RESULTS.md)."""
        return orjson.dumps(self)

    @classmethod
    def from_json(cls, data: dict) -> "VehicleState":
        return cls(**data)
