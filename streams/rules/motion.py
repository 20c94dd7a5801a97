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


def next_anchor(anchor: Anchor | None, lat: float, lon: float, speed_kmh: float, cfg: RuleConfig) -> Anchor | None:
    if anchor is None:
        return (lat, lon) if speed_kmh < cfg.stop_speed_kmh else None
    if surely_within_m(anchor[0], anchor[1], lat, lon, cfg.stop_radius_m):
        return anchor
    away = haversine_m(anchor[0], anchor[1], lat, lon)
    if away > cfg.move_away_m:
        return (lat, lon) if speed_kmh < cfg.stop_speed_kmh else None
    if away > cfg.stop_radius_m and speed_kmh < cfg.stop_speed_kmh:
        return (lat, lon)
    return anchor


def status(anchor: Anchor | None) -> str:
    return "stopped" if anchor is not None else "moving"
