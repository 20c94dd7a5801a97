"""Rule thresholds: docs/rules.md defaults, every one configurable."""
from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class RuleConfig:
    stop_speed_kmh: float = 5.0
    stop_radius_m: float = 50.0
    move_away_m: float = 100.0
    illegal_parking_s: int = 15 * 60
    # A stop's place is its robust centre (median of its first fixes); allowed zones count
    # this far beyond their edge, so parked GPS scatter never makes an illegal stop.
    stop_edge_tolerance_m: float = 25.0
    stop_sample: int = 15  # fixes of a stop its centre is taken from (odd: a true median)
    waybill_place_radius_m: float = 300.0
    no_stopping_s: int = 2 * 60
    restricted_min_gap_s: int = 10
    deviation_open_m: float = 500.0
    deviation_close_m: float = 300.0
    deviation_s: int = 60
    default_speed_limit_kmh: float = 60.0
    speeding_s: int = 30
    fatigue_s: int = 4 * 3600
    fatigue_night_s: int = 2 * 3600
    fatigue_night_from_min: int = 22 * 60
    fatigue_night_to_min: int = 6 * 60
    rest_s: int = 20 * 60
    night_from_min: int = 2 * 60
    night_to_min: int = 5 * 60
    offline_s: int = 20 * 60
    offline_displacement_m: float = 2000.0
    jump_speed_kmh: float = 200.0
    jump_min_m: float = 1000.0
    collision_repeat_s: int = 10 * 60  # one collision violation a vehicle within this
    terminal_fault_s: int = 60  # fault bits set (then clear) this long open (close) terminal_fault
    safety_repeat_s: int = 5 * 60  # one active_safety violation a vehicle and type within this
