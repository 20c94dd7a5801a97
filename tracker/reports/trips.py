"""A vehicle's day as stops and the trips between them (pure; the track comes from PostGIS).

Stops are the rules' (streams.rules.stops); a halt shorter than the shortest stop any
rule acts on (`no_stopping_s`, 2 min by default: a traffic light, a queue at a gate) is
part of the trip around it. A stop runs from the fix it began at to the fix that showed
the vehicle gone (the time the rules close a parking violation at); the trip after it
starts then, from the place of the stop, and ends when the next stop begins.
"""
from __future__ import annotations

from dataclasses import dataclass

from geofence.metric import haversine_m
from streams.rules.config import RuleConfig
from streams.rules.stops import stop_spans


@dataclass(frozen=True)
class Leg:
    """A stop or a trip: fixes [first, last] of the track, from/to as (lat, lon)."""

    start: int  # epoch ms
    end: int
    distance_m: float
    origin: tuple[float, float]
    destination: tuple[float, float]

    def overlaps(self, start_ms: int, end_ms: int) -> bool:
        return self.start < end_ms and self.end > start_ms


def _length(fixes: list[dict], first: int, last: int, origin: tuple[float, float] | None = None) -> float:
    points = ([origin] if origin else []) + [(f["lat"], f["lon"]) for f in fixes[first:last + 1]]
    return sum(haversine_m(a[0], a[1], b[0], b[1]) for a, b in zip(points, points[1:]))


def stops_and_trips(fixes: list[dict], cfg: RuleConfig) -> tuple[list[Leg], list[Leg]]:
    """The stops and trips of a track in time order (fixes: ts ms, lat, lon, speed_kmh)."""
    if not fixes:
        return [], []
    last = len(fixes) - 1
    spans = [s for s in stop_spans(fixes, cfg)
             if fixes[last if s.ended_by is None else s.ended_by]["ts"] - fixes[s.first]["ts"] >= cfg.no_stopping_s * 1000]
    stops: list[Leg] = []
    trips: list[Leg] = []
    moving_from: tuple[int, tuple[float, float] | None] = (0, None)  # fix index, the stop's place
    for span in spans:
        anchor = fixes[span.first]
        place = (anchor["lat"], anchor["lon"])
        begin, origin = moving_from
        if span.first > begin:  # (a stop that crept on to the next has no trip between them)
            start = fixes[begin]["ts"]
            trips.append(Leg(start, anchor["ts"], _length(fixes, begin, span.first, origin),
                             origin or (fixes[begin]["lat"], fixes[begin]["lon"]), place))
        inside_last = last if span.ended_by is None else span.ended_by - 1
        end_ts = fixes[last if span.ended_by is None else span.ended_by]["ts"]
        left = fixes[inside_last]
        stops.append(Leg(anchor["ts"], end_ts, _length(fixes, span.first, inside_last), place,
                         (left["lat"], left["lon"])))
        if span.ended_by is not None:
            moving_from = (span.ended_by, place)
        else:
            moving_from = (last + 1, None)
    begin, origin = moving_from
    if begin < last:
        end = fixes[last]
        trips.append(Leg(fixes[begin]["ts"], end["ts"], _length(fixes, begin, last, origin),
                         origin or (fixes[begin]["lat"], fixes[begin]["lon"]), (end["lat"], end["lon"])))
    return stops, trips
