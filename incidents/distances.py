"""Which ERG distances apply to an incident: the contract's rule (docs/incidents.md,
"Incidents", Distances) as one function of the hazard row and the conditions, and the
composite row of largest distances for a cargo nobody can name.

Night is 18:00-06:00 in Beilun (UTC+8 all year: China has no DST). ERG means sunset to
sunrise; a fixed window is what the bureau asked for, and it errs towards night (the
larger distances) in summer. The offset is written here rather than imported from
streams/times.py because docs/architecture.md lets incidents/ import geofence/ only.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Iterable

from incidents.hazard import SPILLS, TIMES, WIND_BANDS, Hazard, Table3

LOCAL_OFFSET_MS = 8 * 3600 * 1000
DAY_MS = 24 * 3600 * 1000
NIGHT_FROM_MIN, NIGHT_UNTIL_MIN = 18 * 60, 6 * 60
MODERATE_FROM_KMH, HIGH_ABOVE_KMH = 10.0, 20.0  # Table 3: low < 10 km/h, moderate 10-20, high > 20


@dataclass(frozen=True)
class Distances:
    isolation_m: int
    protective_m: int
    fire_m: int
    basis: str  # "table1", "table3" or "guide": which ERG figures these are, for the record


def is_night(at_ms: int) -> bool:
    """Is the epoch-ms instant within 18:00-06:00 local time? 06:00 is day, 18:00 night."""
    minute = (at_ms + LOCAL_OFFSET_MS) % DAY_MS // 60_000
    return minute >= NIGHT_FROM_MIN or minute < NIGHT_UNTIL_MIN


def wind_band(wind_speed_ms: float | None) -> str:
    """Table 3's wind band of a speed in m/s; no wind given counts as low (ERG's largest
    distances for low wind, so an unknown wind never shrinks the zone)."""
    if wind_speed_ms is None:
        return "low"
    kmh = wind_speed_ms * 3.6
    if kmh < MODERATE_FROM_KMH:
        return "low"
    return "moderate" if kmh <= HIGH_ABOVE_KMH else "high"


def distances(hazard: Hazard, spill: str, night: bool, band: str = "low") -> Distances:
    """The isolation, protective and fire distances of `hazard` for a `spill` ("small" or
    "large") at day or night in a wind `band`.

    TIH materials: Table 1 by spill and time, except that a large spill of a material with
    a Table 3 row takes that row for the wind band. Others: the guide's isolation, and as
    the protective distance the guide's large-spill evacuation for a large spill, the
    isolation distance for a small one (ERG has no small-spill downwind figure)."""
    if spill not in SPILLS or band not in WIND_BANDS:
        raise ValueError(f"spill must be one of {SPILLS} and band one of {WIND_BANDS}")
    time = TIMES[night]
    fire = hazard.fire_isolation_m
    if hazard.tih:
        if spill == "large" and hazard.table3 is not None:
            cells = hazard.table3.night if night else hazard.table3.day
            return Distances(hazard.table3.isolation_m, cells[WIND_BANDS.index(band)], fire, "table3")
        isolation = hazard.isolation_m if spill == "small" else hazard.large_isolation_m or hazard.isolation_m
        return Distances(isolation, hazard.protective_m[spill][time], fire, "table1")
    if spill == "small":
        return Distances(hazard.isolation_m, hazard.isolation_m, fire, "guide")
    return Distances(hazard.isolation_m, hazard.protective_m["large"][time], fire, "guide")


def largest(hazards: Iterable[Hazard], source: str) -> Hazard:
    """A composite row whose distances, under every spill, time and wind, are at least
    those of every row given: ERG's "if the name is unknown, use the largest distances".

    Folded through `distances` itself rather than field by field, so it stays the largest
    whatever rule picks the figures (a chlorine small spill beats LPG's protective
    distance, LPG's isolation beats chlorine's, fuming sulfuric acid's large spill beats
    chlorine's Table 3 row in a high wind)."""
    rows = list(hazards)

    def most(spill: str, night: bool, band: str, field: str) -> int:
        return max(getattr(distances(row, spill, night, band), field) for row in rows)

    table3 = Table3(
        isolation_m=max(most("large", night, band, "isolation_m") for night in (False, True) for band in WIND_BANDS),
        day=tuple(most("large", False, band, "protective_m") for band in WIND_BANDS),
        night=tuple(most("large", True, band, "protective_m") for band in WIND_BANDS),
    )
    small = {time: max(most("small", night, band, "protective_m") for band in WIND_BANDS)
             for night, time in enumerate(TIMES)}
    return Hazard(
        un_number=None, name_zh=None, name_en=None, hazard_class=None, guide=None, tih=True,
        isolation_m=max(most("small", night, "low", "isolation_m") for night in (False, True)),
        protective_m={"small": small, "large": {"day": max(table3.day), "night": max(table3.night)}},
        fire_isolation_m=max(row.fire_isolation_m for row in rows),
        bleve=any(row.bleve for row in rows),
        source=source,
        table3=table3,
    )
