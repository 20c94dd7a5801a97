"""Each filling check on both sides of its threshold."""
from __future__ import annotations

from datetime import date, datetime, timedelta, timezone

import pytest

from filling_stations.checks import (ABSENT, PENDING, PRESENT, Person, Vehicle, Waybill, immediate_checks, presence,
                                     qualification_problems)
from geofence.model import compile_geofence
from tests.contracts import validate
from tests.unit.rules.harness import offset

CST = timezone(timedelta(hours=8))
FILLED = int(datetime(2026, 11, 30, 23, 30, tzinfo=CST).timestamp() * 1000)  # late evening: UTC is still the 30th
DAY = date(2026, 11, 30)
STATION = compile_geofence("st", 1, {"type": "Point", "coordinates": [offset()[1], offset()[0]]},
                           {"kind": "filling_station", "station_id": "S1", "radius_m": 100})


def record(**over) -> dict:
    r = {"id": "F1", "station_id": "S1", "plate": "P1", "driver_id": "D1", "escort_id": "E1", "un_number": "1203",
         "hazard_class": "3", "quantity_kg": 20_000, "filled_at": FILLED, "received_at": FILLED}
    r.update(over)
    return r


def vehicle(**over) -> Vehicle:
    v = dict(plate="P1", carrier_id="C1", tank_capacity_kg=20_000, hazard_classes=("3",), permit_valid_until=DAY,
             tank_inspection_valid_until=DAY)
    v.update(over)
    return Vehicle(**v)


PEOPLE = {"D1": Person("D1", DAY), "E1": Person("E1", DAY)}
WAYBILL = Waybill("W1", "UN1203", FILLED - 3600_000, FILLED + 3600_000)


def kinds(violations) -> list[str]:
    return [v.kind for v in violations]


def test_a_clean_record_raises_nothing_and_dates_expiring_today_still_count():
    violations, results = immediate_checks(record(), vehicle(), PEOPLE, [WAYBILL], (29.9, 121.8))
    assert violations == [] and results == {"overload": False, "qualified": True, "waybill_id": "W1"}


def test_quantity_equal_to_capacity_is_fine_one_kilo_more_is_overload():
    assert kinds(immediate_checks(record(quantity_kg=20_000), vehicle(), PEOPLE, [WAYBILL], (0, 0))[0]) == []
    violations, _ = immediate_checks(record(quantity_kg=20_001), vehicle(), PEOPLE, [WAYBILL], (29.9, 121.8))
    assert kinds(violations) == ["filling_overload"]
    assert violations[0].details["capacity_kg"] == 20_000 and violations[0].agencies == ["market", "emergency"]
    validate("violation.schema.json", violations[0].wire())


@pytest.mark.parametrize("change, words", [
    ({"vehicle": vehicle(permit_valid_until=DAY - timedelta(days=1))}, "permit expired"),
    ({"vehicle": vehicle(tank_inspection_valid_until=DAY - timedelta(days=1))}, "tank inspection"),
    ({"vehicle": vehicle(hazard_classes=("2.1",))}, "hazard class 3"),
    ({"people": {"D1": Person("D1", DAY - timedelta(days=1)), "E1": PEOPLE["E1"]}}, "driver D1"),
    ({"people": {"D1": PEOPLE["D1"], "E1": Person("E1", DAY - timedelta(days=1))}}, "escort E1"),
    ({"people": {"D1": PEOPLE["D1"]}}, "escort E1 is not registered"),
    ({"vehicle": None}, "not registered"),
])
def test_unqualified(change, words):
    problems = qualification_problems(record(), change.get("vehicle", vehicle()),
                                      change.get("people", PEOPLE))
    assert any(words in p for p in problems), problems


def test_the_local_day_decides_not_the_utc_day():
    tomorrow_early = int(datetime(2026, 12, 1, 0, 30, tzinfo=CST).timestamp() * 1000)  # still 30 Nov in UTC
    assert qualification_problems(record(filled_at=tomorrow_early), vehicle(), PEOPLE)


@pytest.mark.parametrize("waybill, missing", [
    (WAYBILL, False),
    (Waybill("W1", "1203", FILLED - 3600_000, FILLED + 3600_000), False),
    (Waybill("W1", "1170", FILLED - 3600_000, FILLED + 3600_000), True),
    (Waybill("W1", "1203", FILLED + 1, FILLED + 3600_000), True),
    (Waybill("W1", "1203", FILLED - 3600_000, FILLED), True),
])
def test_no_waybill(waybill, missing):
    violations, _ = immediate_checks(record(), vehicle(), PEOPLE, [waybill], (0, 0))
    assert ("filling_no_waybill" in kinds(violations)) is missing


def fix_at(ts: int, east_m: float) -> tuple[int, float, float]:
    lat, lon = offset(east_m)
    return ts, lat, lon


@pytest.mark.parametrize("fixes, window_over, status", [
    ([fix_at(FILLED - 15 * 60_000, 250)], False, PRESENT),  # 150 m outside the 100 m radius, at the window's edge
    ([fix_at(FILLED + 15 * 60_000 + 1, 0)], True, ABSENT),  # just after the window
    ([fix_at(FILLED, 350)], True, ABSENT),  # 250 m beyond the station's edge
    ([fix_at(FILLED, 350)], False, PENDING),  # the track does not cover the window yet
    ([], False, PENDING),
    ([], True, ABSENT),
])
def test_presence(fixes, window_over, status):
    assert presence(record(), STATION.area, fixes, window_over)[0] == status


def test_absent_with_no_fix_at_all_says_the_vehicle_was_offline():
    _, details = presence(record(), STATION.area, [], True)
    assert details == {"vehicle_offline": True}
    _, details = presence(record(), STATION.area, [fix_at(FILLED, 5000)], True)
    assert details["vehicle_offline"] is False and details["nearest_distance_m"] > 4800


def test_ids_are_per_record_and_kind_and_repeat_on_replay():
    first, _ = immediate_checks(record(quantity_kg=30_000), vehicle(), PEOPLE, [], (0, 0))
    again, _ = immediate_checks(record(quantity_kg=30_000), vehicle(), PEOPLE, [], (0, 0))
    other, _ = immediate_checks(record(id="F2", quantity_kg=30_000), vehicle(), PEOPLE, [], (0, 0))
    assert [v.violation_id for v in first] == [v.violation_id for v in again]
    assert not {v.violation_id for v in first} & {v.violation_id for v in other}
