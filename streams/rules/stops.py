"""A stored track's stops, as the rules see them: the engine's own stop logic
(`Step.motion`) run over the fixes, so reports and violations share one definition."""
from __future__ import annotations

from dataclasses import dataclass

from streams.rules.config import RuleConfig
from streams.rules.engine import Context, Step
from streams.rules.state import VehicleState


@dataclass(frozen=True)
class StopSpan:
    first: int  # index of the fix the stop began at (the rules' anchor)
    ended_by: int | None  # index of the fix that ended it (moved away, or crept on); None: still stopped


def _no_waybill(plate: str, ts: int) -> None:
    return None


def stop_spans(fixes: list[dict], cfg: RuleConfig) -> list[StopSpan]:
    """Every stop of a vehicle's fixes (in time order, each with ts, lat, lon, speed_kmh):
    a stop begins below `stop_speed_kmh` and lasts until the vehicle is `move_away_m` from
    where it stopped; creeping more than `stop_radius_m` at walking pace starts a new one.
    Only the motion rule runs (no zones, no violations), so a stop a violation would hold
    in place while creeping is split here where the rules keep it whole."""
    ctx = Context({}, _no_waybill, cfg)
    state = VehicleState("report")
    spans: list[StopSpan] = []
    began: int | None = None
    for i, fix in enumerate(fixes):
        before = state.anchor_ts
        if before is not None or fix["speed_kmh"] < cfg.stop_speed_kmh:  # as Step.run guards it
            Step(state, fix, frozenset(), ctx).motion()
        state.last_ts, state.last_lat, state.last_lon, state.last_speed = fix["ts"], fix["lat"], fix["lon"], fix["speed_kmh"]
        after = state.anchor_ts
        if before is not None and after != before:
            spans.append(StopSpan(began, i))
        if after is not None and after != before:
            began = i
    if state.anchor_ts is not None:
        spans.append(StopSpan(began, None))
    return spans
