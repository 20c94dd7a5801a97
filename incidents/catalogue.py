"""The hazard catalogue: the ERG data file shipped with the package, the bureau's own
figures merged over it, and the rule that picks the row an incident's zones are drawn
from (docs/incidents.md, Cargo).

`parse_catalogue` is a pure function of the file's contents; `load_catalogue` reads the
shipped file once. The bureau's figures live in PostgreSQL: whoever reads them passes the
rows to `Catalogue.with_overrides`, which returns a new catalogue (the shipped one is
shared and never changes).
"""
from __future__ import annotations

import json
from dataclasses import dataclass, field, replace
from functools import cache
from importlib import resources
from typing import Mapping

from incidents.distances import largest
from incidents.hazard import Hazard, HazardError, parse_hazard, un_key

WAYBILL, GIVEN, UNKNOWN = "waybill", "given", "unknown"


@dataclass(frozen=True)
class Catalogue:
    edition: str
    hazards: Mapping[str, Hazard]  # by UN number, "1017"
    guides: Mapping[str, Hazard]  # each guide page's defaults, by guide number without "P"
    class_names: Mapping[str, str]  # GB 6944 class names in Chinese, "2.3" -> "毒性气体"
    largest: Hazard = field(init=False)

    def __post_init__(self) -> None:
        rows = [*self.hazards.values(), *self.guides.values()]
        object.__setattr__(self, "largest", largest(rows, f"largest distances in the catalogue ({self.edition})"))

    def get(self, un_number: str) -> Hazard | None:
        """The row of a UN number (for `GET /v1/hazards/{un_number}`), None when absent."""
        return self.hazards.get(un_key(un_number))

    def with_overrides(self, rows: Mapping[str, Mapping]) -> Catalogue:
        """The catalogue with the bureau's rows (`PUT /v1/hazards` objects, by UN number)
        replacing or adding whole rows. A replaced row keeps nothing of the ERG's: not its
        Table 3 row nor its large-spill isolation unless the override gives them, since
        the bureau's large-spill figures must then govern."""
        merged = dict(self.hazards)
        for un_number, row in rows.items():
            hazard = parse_hazard(row)
            if hazard.un_number != un_key(un_number):
                raise HazardError(f"override {un_number} holds the row of UN{hazard.un_number}")
            merged[hazard.un_number] = hazard
        return replace(self, hazards=merged)

    def resolve(self, un_number: str | None, guide: str | None = None) -> Hazard:
        """The row whose distances apply: the UN number's own; for a UN number not in the
        catalogue its guide's defaults when the guide is known (and in the data file);
        otherwise, and when no UN number is known at all, the composite of largest
        distances. The row returned always carries the UN number asked for."""
        if un_number is None:
            return self.largest
        key = un_key(un_number)
        found = self.hazards.get(key)
        if found is not None:
            return found
        defaults = self.guides.get(guide.strip().upper().removesuffix("P")) if guide else None
        if defaults is not None:
            return replace(defaults, un_number=key, guide=guide, source=f"{defaults.source} guide {guide} defaults")
        return replace(self.largest, un_number=key, source=f"UN{key} not in the catalogue: {self.largest.source}")


def cargo_basis(given_un: str | None, waybill_un: str | None) -> tuple[str | None, str]:
    """(UN number, cargo_basis) of an incident: the UN number given when it is opened or
    patched, else the plate's waybill active now, else unknown."""
    if given_un is not None:
        return given_un, GIVEN
    if waybill_un is not None:
        return waybill_un, WAYBILL
    return None, UNKNOWN


def _guide_defaults(row: Mapping) -> Hazard:
    """A guide page's figures as a non-TIH row: "as necessary" (null) downwind becomes
    the isolation distance, as for the catalogue's own rows."""
    isolation = row["isolation_m"]
    large = row["large_spill_m"] or isolation
    return parse_hazard({
        "guide": row["guide"], "tih": False, "isolation_m": isolation,
        "protective_m": {"small": {"day": isolation, "night": isolation}, "large": {"day": large, "night": large}},
        "fire_isolation_m": row["fire_isolation_m"], "bleve": False, "source": row["source"],
    }, guide_page=True)


def parse_catalogue(document: Mapping) -> Catalogue:
    """A Catalogue from the data file's parsed JSON; a UN number or guide twice is refused."""
    hazards: dict[str, Hazard] = {}
    for row in document["hazards"]:
        hazard = parse_hazard(row)
        if hazards.setdefault(hazard.un_number, hazard) is not hazard:
            raise HazardError(f"UN{hazard.un_number} is in the catalogue twice")
    guides = {row["guide"]: _guide_defaults(row) for row in document["guides"]}
    if len(guides) != len(document["guides"]):
        raise HazardError("a guide is in the catalogue twice")
    return Catalogue(document["edition"], hazards, guides, dict(document["classes"]))


@cache
def load_catalogue() -> Catalogue:
    """The shipped catalogue, read once per process."""
    text = resources.files("incidents").joinpath("data/hazards.json").read_text(encoding="utf-8")
    return parse_catalogue(json.loads(text))
