"""Moving or stopped, decided the way the rules decide it (`engine.Step.motion`), for the
live feed: a stop begins below stop_speed_kmh and lasts until the vehicle is more than
move_away_m from where it stopped, whatever speed GPS jitter reports; a slow vehicle
that crept beyond stop_radius_m stands at a new place.

The rules keep the anchor in each vehicle's state; the live feed, which sees fixes
before the workers do, keeps its own here, seeded from the stored states, so that a
position pushed to the map carries the status GET /v1/vehicles will give for that fix.
(The rules do not move the anchor while a parking violation is open; only where a
vehicle stands differs then, never whether it stands.)
"""
from __future__ import annotations

from geofence.metric import haversine_m, surely_within_m
from streams.rules.config import RuleConfig

Anchor = tuple[float, float]  # (lat, lon) where the vehicle stands; None while it drives


# What a fix does to where a vehicle stands: the rules' Step.motion and the live feed
# both act on this one decision.
DRIVES, STOPS, STAYS, LEAVES, MOVES_ON, CREEPS = "drives", "stops", "stays", "leaves", "moves_on", "creeps"


def transition(anchor: Anchor | None, lat: float, lon: float, speed_kmh: float, cfg: RuleConfig) -> str:
    """DRIVES / STOPS without an anchor; with one: STAYS (within stop_radius_m, or
    between it and move_away_m while moving), LEAVES (beyond move_away_m, moving),
    MOVES_ON (beyond move_away_m and slow again: a new stop there), CREEPS (beyond
    stop_radius_m at walking pace: stands at a new place)."""
    if anchor is None:
        return STOPS if speed_kmh < cfg.stop_speed_kmh else DRIVES
    if surely_within_m(anchor[0], anchor[1], lat, lon, cfg.stop_radius_m):
        return STAYS
    away = haversine_m(anchor[0], anchor[1], lat, lon)
    if away > cfg.move_away_m:
        return MOVES_ON if speed_kmh < cfg.stop_speed_kmh else LEAVES
    if away > cfg.stop_radius_m and speed_kmh < cfg.stop_speed_kmh:
        return CREEPS
    return STAYS


def next_anchor(anchor: Anchor | None, lat: float, lon: float, speed_kmh: float, cfg: RuleConfig) -> Anchor | None:
    move = transition(anchor, lat, lon, speed_kmh, cfg)
    if move in (DRIVES, LEAVES):
        return None
    return anchor if move == STAYS else (lat, lon)


def status(anchor: Anchor | None) -> str:
    return "stopped" if anchor is not None else "moving"
