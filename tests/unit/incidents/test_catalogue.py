"""The shipped ERG figures, the row an incident's cargo resolves to, and the bureau's
overrides merged over the file."""
from __future__ import annotations

import itertools

import pytest

from incidents.catalogue import GIVEN, UNKNOWN, WAYBILL, cargo_basis, load_catalogue, parse_catalogue
from incidents.distances import distances
from incidents.hazard import SPILLS, WIND_BANDS, HazardError

CATALOGUE = load_catalogue()
# every cargo the catalogue was built for (its notes: the ERG guide pages and Table 1 rows of Beilun's cargoes)
CARGOES = ("1203 1202 1223 1863 1075 1978 1077 1972 1049 1086 1977 1073 1170 1090 1173 1114 1294 1307 2055 1230 "
           "1830 1789 1824 2031 2014 1005 1017 1040 1051 1093 1831 2032").split()
CONDITIONS = list(itertools.product(SPILLS, (False, True), WIND_BANDS))


def metres(hazard, spill, night, band="low") -> tuple[int, int]:
    d = distances(hazard, spill, night, band)
    return d.isolation_m, d.protective_m


def test_every_researched_cargo_is_in_the_file_with_its_edition():
    assert set(CATALOGUE.hazards) == set(CARGOES)
    assert CATALOGUE.edition == "ERG 2024"
    assert all(h.source.startswith("ERG 20") for h in CATALOGUE.hazards.values())
    assert CATALOGUE.class_names["2.3"] == "毒性气体"


def test_the_answer_of_get_hazards_has_exactly_the_contract_fields():
    answer = CATALOGUE.get("UN1017").as_json()
    assert answer == {"un_number": "1017", "name_zh": "液氯", "name_en": "Chlorine", "class": "2.3", "guide": "124",
                      "tih": True, "isolation_m": 60,
                      "protective_m": {"small": {"day": 300, "night": 1500}, "large": {"day": 5600, "night": 6400}},
                      "fire_isolation_m": 800, "bleve": False, "source": "ERG 2024"}
    assert CATALOGUE.get("9999") is None


def test_chlorine_figures_are_erg_2024():
    chlorine = CATALOGUE.get("1017")
    assert distances(chlorine, "small", night=True) == distances(chlorine, "small", True, "high")
    assert metres(chlorine, "small", True) == (60, 1500)
    assert [distances(chlorine, "large", True, band).protective_m for band in WIND_BANDS] == [6400, 4700, 3800]
    assert [distances(chlorine, "large", False, band).protective_m for band in WIND_BANDS] == [5600, 3300, 2500]
    assert distances(chlorine, "large", True).isolation_m == 600
    assert distances(chlorine, "large", True).basis == "table3"


@pytest.mark.parametrize("un, spill, night, expected", [
    ("1075", "large", False, (100, 800, 1600)),  # LPG: guide 115
    ("1075", "small", True, (100, 100, 1600)),  # a small non-TIH spill: protective = isolation
    ("1203", "large", True, (50, 300, 800)),  # gasoline
    ("1830", "large", True, (50, 50, 800)),  # sulfuric acid: "as necessary" = the isolation distance
    ("1051", "large", True, (200, 1800, 1600)),  # HCN: Table 1 large spill, its own isolation
    ("1831", "large", False, (300, 2900, 800)),  # fuming sulfuric acid
    ("2032", "small", True, (30, 100, 800)),  # red fuming nitric acid
    ("1005", "large", True, (150, 1800, 1600)),  # ammonia: Table 3, low wind
])
def test_distances_per_cargo(un, spill, night, expected):
    d = distances(CATALOGUE.get(un), spill, night)
    assert (d.isolation_m, d.protective_m, d.fire_m) == expected


def test_bleve_only_where_guide_115_warns_of_it():
    assert {un for un, h in CATALOGUE.hazards.items() if h.bleve} == {"1075", "1077", "1978"}


def test_unknown_cargo_takes_distances_at_least_those_of_every_row_under_every_condition():
    unknown = CATALOGUE.resolve(None)
    rows = [*CATALOGUE.hazards.values(), *CATALOGUE.guides.values()]
    for condition, row in itertools.product(CONDITIONS, rows):
        mine, theirs = distances(unknown, *condition), distances(row, *condition)
        assert mine.isolation_m >= theirs.isolation_m and mine.protective_m >= theirs.protective_m, (row, condition)
        assert mine.fire_m >= theirs.fire_m
    # and each is attained by some row: the largest, not larger
    assert metres(unknown, "large", True) == (600, 6400)
    assert distances(unknown, "large", True, "high").protective_m == 6300  # fuming sulfuric acid beats chlorine
    assert metres(unknown, "small", True) == (100, 1500)
    assert unknown.fire_isolation_m == 1600 and unknown.un_number is None


def test_a_un_number_not_in_the_catalogue_takes_its_guides_defaults_else_the_largest():
    guessed = CATALOGUE.resolve("UN1993", guide="128")
    assert guessed.un_number == "1993" and guessed.guide == "128" and not guessed.tih
    assert metres(guessed, "large", True) == (50, 300)
    assert "guide 128" in guessed.source
    polymerising = CATALOGUE.resolve("1991", guide="131P")  # guide 131: no downwind figure
    assert distances(polymerising, "large", False).protective_m == 50 and polymerising.fire_isolation_m == 800
    for guide in (None, "111"):  # no guide, or one the file has no page for
        fallback = CATALOGUE.resolve("1993", guide=guide)
        assert fallback.un_number == "1993"
        assert distances(fallback, "large", True) == distances(CATALOGUE.largest, "large", True)


def test_a_known_un_number_ignores_the_guide_given():
    assert CATALOGUE.resolve("un 1203", guide="115") is CATALOGUE.get("1203")


def test_cargo_basis_given_then_waybill_then_unknown():
    assert cargo_basis("1017", "1203") == ("1017", GIVEN)
    assert cargo_basis(None, "1203") == ("1203", WAYBILL)
    assert cargo_basis(None, None) == (None, UNKNOWN)


def test_overrides_replace_whole_rows_and_the_largest_follows_them():
    own = {**CATALOGUE.get("1017").as_json(), "protective_m": {"small": {"day": 500, "night": 2000},
                                                              "large": {"day": 8000, "night": 9000}},
           "source": "北仑区应急管理局 2026"}
    merged = CATALOGUE.with_overrides({"UN1017": own, "3077": {**CATALOGUE.get("1203").as_json(), "un_number": "3077"}})
    chlorine = merged.get("1017")
    assert chlorine.table3 is None and chlorine.source == "北仑区应急管理局 2026"
    assert distances(chlorine, "large", True, "high").protective_m == 9000  # the bureau's, not Table 3's
    assert distances(chlorine, "large", True).isolation_m == 60  # no large-spill isolation given
    assert merged.get("3077").name_en == "Gasoline"
    assert distances(merged.largest, "large", True, "high").protective_m == 9000
    assert CATALOGUE.get("1017").table3 is not None  # the shipped catalogue is unchanged


@pytest.mark.parametrize("change, words", [
    ({"isolation_m": 0}, "isolation_m"),
    ({"isolation_m": 12.5}, "isolation_m"),
    ({"tih": "yes"}, "tih"),
    ({"protective_m": {"small": {"day": 1}}}, "protective_m.small.night"),
    ({"table3": {"isolation_m": 100, "day": [1, 2], "night": [1, 2, 3]}}, "table3.day"),
    ({"source": ""}, "source"),
    ({"un_number": "UN12034"}, "un_number"),
])
def test_a_bad_override_is_refused_with_the_field_named(change, words):
    with pytest.raises(HazardError, match=words):
        CATALOGUE.with_overrides({"1203": {**CATALOGUE.get("1203").as_json(), **change}})


def test_an_override_under_another_number_and_a_repeated_row_are_refused():
    with pytest.raises(HazardError, match="UN1203"):
        CATALOGUE.with_overrides({"1202": CATALOGUE.get("1203").as_json()})
    row = CATALOGUE.get("1203").as_json()
    with pytest.raises(HazardError, match="twice"):
        parse_catalogue({"edition": "x", "classes": {}, "guides": [], "hazards": [row, row]})


def test_the_file_is_consistent_with_its_notes():
    for hazard in CATALOGUE.hazards.values():
        if not hazard.tih:  # a small non-TIH spill: protective = isolation; no Table 1 or 3 figures
            assert hazard.protective_m["small"] == {"day": hazard.isolation_m, "night": hazard.isolation_m}
            assert hazard.table3 is None and hazard.large_isolation_m is None
        if hazard.table3 is not None:  # Table 3 rows show their low-wind figures as the large spill's
            assert hazard.protective_m["large"] == {"day": hazard.table3.day[0], "night": hazard.table3.night[0]}
            assert hazard.large_isolation_m is None
    assert {h.un_number for h in CATALOGUE.hazards.values() if h.table3} == {"1005", "1017", "1040"}


def test_the_cargo_object_of_an_incident():
    assert CATALOGUE.resolve("1203").cargo() == {"un_number": "1203", "name_zh": "汽油", "name_en": "Gasoline",
                                                 "class": "3", "guide": "128", "tih": False, "source": "ERG 2024"}
    assert CATALOGUE.resolve("1993", guide="128").cargo()["name_en"] is None
