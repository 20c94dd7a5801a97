"""A stored track's stops, as the rules see them: the one motion decision the rules and the
live feed act on (streams.rules.motion.transition), applied fix by fix the way
`engine.Step.motion` applies it, so reports and violations share one definition."""
from __future__ import annotations

from dataclasses import dataclass

from streams.rules.config import RuleConfig
from streams.rules.motion import CREEPS, LEAVES, MOVES_ON, STOPS, transition


@dataclass(frozen=True)
class StopSpan:
    first: int  # index of the fix the stop began at (the rules' anchor)
    ended_by: int | None  # index of the fix that ended it (moved away, or crept on); None: still stopped


def stop_spans(fixes: list[dict], cfg: RuleConfig) -> list[StopSpan]:
    """Every stop of a vehicle's fixes (in time order, each with lat, lon, speed_kmh): a
    stop begins below `stop_speed_kmh` and lasts until the vehicle is `move_away_m` from
    where it stopped; creeping beyond `stop_radius_m` at walking pace starts a new one.
    The rules keep a stop whole while creeping with a parking violation open; with no
    violations here, such a stop is split where it crept."""
    spans: list[StopSpan] = []
    anchor: tuple[float, float] | None = None
    began = 0
    for i, fix in enumerate(fixes):
        move = transition(anchor, fix["lat"], fix["lon"], fix["speed_kmh"], cfg)
        if anchor is not None and move in (LEAVES, MOVES_ON, CREEPS):
            spans.append(StopSpan(began, i))
            anchor = None
        if move in (STOPS, MOVES_ON, CREEPS):
            anchor, began = (fix["lat"], fix["lon"]), i
    if anchor is not None:
        spans.append(StopSpan(began, None))
    return spans
