"""One hazard row: what the catalogue knows of a material, read from the data file or
from the bureau's own figures.

A row has the shape of `GET /v1/hazards/{un_number}` (docs/incidents.md) plus two fields the
ERG needs and the answer does not show: `large_isolation_m` (Table 1 gives TIH materials a
second, large-spill isolation distance) and `table3` (the highway tank truck row of Table
3 for the three gases Table 1 sends there). Rows are checked when read, so a bad data
file or override fails at start rather than while drawing an incident's zones.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Mapping

SPILLS = ("small", "large")
TIMES = ("day", "night")
WIND_BANDS = ("low", "moderate", "high")


class HazardError(ValueError):
    """A hazard row that cannot be used; the message names the field."""


@dataclass(frozen=True)
class Table3:
    """Table 3's highway tank truck row: downwind metres per wind band, in WIND_BANDS order."""
    isolation_m: int
    day: tuple[int, int, int]
    night: tuple[int, int, int]


@dataclass(frozen=True)
class Hazard:
    un_number: str | None  # None for the catalogue's composite of largest distances
    name_zh: str | None
    name_en: str | None
    hazard_class: str | None
    guide: str | None
    tih: bool
    isolation_m: int
    protective_m: Mapping[str, Mapping[str, int]]  # {"small"|"large": {"day"|"night": metres}}
    fire_isolation_m: int
    bleve: bool
    source: str
    large_isolation_m: int | None = None  # None: isolation_m
    table3: Table3 | None = None

    def as_json(self) -> dict:
        """The `GET /v1/hazards/{un_number}` answer, exactly the contract's fields."""
        return {"un_number": self.un_number, "name_zh": self.name_zh, "name_en": self.name_en,
                "class": self.hazard_class, "guide": self.guide, "tih": self.tih, "isolation_m": self.isolation_m,
                "protective_m": {spill: dict(self.protective_m[spill]) for spill in SPILLS},
                "fire_isolation_m": self.fire_isolation_m, "bleve": self.bleve, "source": self.source}

    def cargo(self) -> dict:
        """The Incident's `cargo` object."""
        return {"un_number": self.un_number, "name_zh": self.name_zh, "name_en": self.name_en,
                "class": self.hazard_class, "guide": self.guide, "tih": self.tih, "source": self.source}


def un_key(un_number: str) -> str:
    """The catalogue's key: "UN1017", "un 1017" and "1017" name one material."""
    return un_number.strip().upper().removeprefix("UN").strip()


def _metres(value: object, field: str) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or not 0 < value <= 100_000:
        raise HazardError(f"{field} must be whole metres between 1 and 100000")
    return value


def _text(row: Mapping, field: str, required: bool = False) -> str | None:
    value = row.get(field)
    if value is None and not required:
        return None
    if not isinstance(value, str) or not value.strip():
        raise HazardError(f"{field} must be a non-empty string")
    return value


def _flag(row: Mapping, field: str) -> bool:
    value = row.get(field)
    if not isinstance(value, bool):
        raise HazardError(f"{field} must be true or false")
    return value


def _table3(value: object) -> Table3 | None:
    if value is None:
        return None
    if not isinstance(value, Mapping):
        raise HazardError("table3 must be an object or null")
    bands = {}
    for time in TIMES:
        cells = value.get(time)
        if not isinstance(cells, (list, tuple)) or len(cells) != len(WIND_BANDS):
            raise HazardError(f"table3.{time} must list {len(WIND_BANDS)} distances (low, moderate, high wind)")
        bands[time] = tuple(_metres(c, f"table3.{time}") for c in cells)
    return Table3(_metres(value.get("isolation_m"), "table3.isolation_m"), bands["day"], bands["night"])


def _un_number(row: Mapping) -> str:
    un_number = un_key(_text(row, "un_number", required=True))
    if not (len(un_number) == 4 and un_number.isascii() and un_number.isdigit()):
        raise HazardError("un_number must be four digits, UN prefix optional")
    return un_number


def parse_hazard(row: Mapping, guide_page: bool = False) -> Hazard:
    """A checked Hazard from a data-file row or an override in the `PUT /v1/hazards` shape;
    a guide page's defaults (`guide_page`) have no UN number."""
    protective = row.get("protective_m")
    if not isinstance(protective, Mapping):
        raise HazardError("protective_m must be an object")
    metres = {}
    for spill in SPILLS:
        cells = protective.get(spill)
        if not isinstance(cells, Mapping):
            raise HazardError(f"protective_m.{spill} must be an object")
        metres[spill] = {time: _metres(cells.get(time), f"protective_m.{spill}.{time}") for time in TIMES}
    large_isolation = row.get("large_isolation_m")
    return Hazard(
        un_number=None if guide_page else _un_number(row),
        name_zh=_text(row, "name_zh"), name_en=_text(row, "name_en"),
        hazard_class=_text(row, "class"), guide=_text(row, "guide"),
        tih=_flag(row, "tih"),
        isolation_m=_metres(row.get("isolation_m"), "isolation_m"),
        protective_m=metres,
        fire_isolation_m=_metres(row.get("fire_isolation_m"), "fire_isolation_m"),
        bleve=_flag(row, "bleve"),
        source=_text(row, "source", required=True),
        large_isolation_m=None if large_isolation is None else _metres(large_isolation, "large_isolation_m"),
        table3=_table3(row.get("table3")),
    )
