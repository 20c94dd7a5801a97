"""Zones drawn where ERG says, checked against hand-computed coordinates and great-circle
distances; day and night at their boundaries; the Incident's zones object."""
from __future__ import annotations

from datetime import datetime, timedelta, timezone

import pytest
import shapely

from geofence.metric import haversine_m
from incidents.catalogue import load_catalogue
from incidents.classify import classify
from incidents.distances import is_night, wind_band
from incidents.zones import downwind_of, incident_zones

CST = timezone(timedelta(hours=8))
LON, LAT = 121.85, 29.93  # Beilun
CATALOGUE = load_catalogue()
CHLORINE, LPG = CATALOGUE.get("1017"), CATALOGUE.get("1075")


def at(hour: int, minute: int = 0, ms: int = 0) -> int:
    return int(datetime(2026, 12, 5, hour, minute, tzinfo=CST).timestamp() * 1000) + ms


NIGHT, DAY = at(23), at(12)
NORTH_WIND = {"wind_from_deg": 0.0, "wind_speed_ms": 2.0}  # 7.2 km/h: low


def corners(polygon) -> set[tuple[float, float]]:
    return {(round(x, 7), round(y, 7)) for x, y in polygon.exterior.coords}


def test_a_north_wind_puts_the_square_south_with_its_upwind_side_centred_on_the_point():
    zones = incident_zones(LON, LAT, CHLORINE, spill="small", kind="leak", at_ms=NIGHT, **NORTH_WIND)
    protective = zones.zone("protective")
    assert (protective.metres, protective.downwind_deg) == (1500, 180.0)
    # by hand: 1 deg of latitude = 6 371 008.8 m * pi / 180 = 111 195.08 m; 1 deg of longitude
    # here = 111 195.08 * cos(29.93 deg) = 96 365.62 m; so 750 m east = 0.0077829 deg, 1500 m
    # south = 0.0134898 deg
    assert corners(protective.geometry) == {(121.8422171, 29.93), (121.8577829, 29.93),
                                            (121.8577829, 29.9165102), (121.8422171, 29.9165102)}
    (w, n), (e, s) = (121.8422171, 29.93), (121.8577829, 29.9165102)
    assert haversine_m(LAT, LON, n, w) == pytest.approx(750, abs=1)
    assert haversine_m(LAT, LON, n, e) == pytest.approx(750, abs=1)
    assert haversine_m(n, w, s, w) == pytest.approx(1500, abs=1)  # the sides
    assert haversine_m(s, w, s, e) == pytest.approx(1500, abs=1)
    assert haversine_m(LAT, LON, s, e) == pytest.approx(1677.05, abs=1)  # the far corners: 750 by 1500
    assert protective.geometry.exterior.is_ccw


@pytest.mark.parametrize("wind_from, corner_bearing", [(90.0, "west"), (270.0, "east"), (180.0, "north")])
def test_the_square_turns_with_the_wind(wind_from, corner_bearing):
    zones = incident_zones(LON, LAT, CHLORINE, spill="small", kind="leak", at_ms=NIGHT, wind_from_deg=wind_from)
    centre = zones.zone("protective").geometry.centroid
    offset = {"west": (centre.x < LON - 0.007, abs(centre.y - LAT) < 1e-9),
              "east": (centre.x > LON + 0.007, abs(centre.y - LAT) < 1e-9),
              "north": (centre.y > LAT + 0.006, abs(centre.x - LON) < 1e-9)}[corner_bearing]
    assert all(offset)
    assert haversine_m(LAT, LON, centre.y, centre.x) == pytest.approx(750, abs=1)


def test_circles_lie_on_the_great_circle_distance_and_never_inside_it():
    zones = incident_zones(LON, LAT, LPG, spill="large", kind="fire", at_ms=DAY)
    fire = zones.zone("fire")
    assert fire.metres == 1600
    ring = list(fire.geometry.exterior.coords)
    for (x1, y1), (x2, y2) in zip(ring, ring[1:]):
        assert 1599.5 <= haversine_m(LAT, LON, y1, x1) <= 1601.5  # circumscribed: vertices 0.5 m out
        assert haversine_m(LAT, LON, (y1 + y2) / 2, (x1 + x2) / 2) == pytest.approx(1600, abs=1)


def test_chlorine_large_spill_at_night_in_a_north_wind_uses_table_3():
    zones = incident_zones(LON, LAT, CHLORINE, spill="large", kind="leak", at_ms=NIGHT, **NORTH_WIND)
    assert (zones.distances.isolation_m, zones.distances.protective_m, zones.distances.basis) == (600, 6400, "table3")
    assert [z.name for z in zones.zones] == ["isolation", "protective"]  # no fire zone for a leak
    south = shapely.Point(LON, LAT - 400 / 111_195.08)
    north = shapely.Point(LON, LAT + 400 / 111_195.08)
    assert classify(zones, south) == ("isolation", 400.0)  # the innermost zone: 600 m circle
    assert classify(zones, north) == ("isolation", 400.0)  # upwind, yet inside the circle
    far_north = shapely.Point(LON, LAT + 700 / 111_195.08)
    assert classify(zones, far_north) == (None, 700.0)


def test_a_school_400_m_south_is_inside_the_square_and_one_400_m_north_is_not():
    zones = incident_zones(LON, LAT, CHLORINE, spill="small", kind="leak", at_ms=NIGHT, **NORTH_WIND)
    assert (zones.distances.isolation_m, zones.distances.protective_m) == (60, 1500)
    assert classify(zones, shapely.Point(LON, LAT - 400 / 111_195.08)) == ("protective", 400.0)
    assert classify(zones, shapely.Point(LON, LAT + 400 / 111_195.08)) == (None, 400.0)
    grounds = shapely.box(LON - 0.001, LAT + 0.0003, LON + 0.001, LAT + 0.002)  # 33 m north, upwind
    assert classify(zones, grounds) == ("isolation", 33.4)  # its nearest part is in the 60 m circle


def test_lpg_fire_draws_a_1600_m_fire_circle_only_for_fires_and_explosions():
    for kind in ("fire", "explosion"):
        zones = incident_zones(LON, LAT, LPG, spill="large", kind=kind, at_ms=DAY, **NORTH_WIND)
        assert [(z.name, z.metres) for z in zones.zones] == [("isolation", 100), ("protective", 800), ("fire", 1600)]
    for kind in ("leak", "collision", "rollover", "other"):
        assert incident_zones(LON, LAT, LPG, spill="large", kind=kind, at_ms=DAY).zone("fire") is None
    with pytest.raises(ValueError):
        incident_zones(LON, LAT, LPG, spill="large", kind="flood", at_ms=DAY)


def test_a_fire_circle_smaller_than_the_square_is_the_inner_zone():
    zones = incident_zones(LON, LAT, CHLORINE, spill="small", kind="fire", at_ms=NIGHT, **NORTH_WIND)
    # 800 m circle: 2.01 km2; 1500 m square: 2.25 km2
    assert [z.name for z in zones.zones] == ["isolation", "fire", "protective"]
    assert classify(zones, shapely.Point(LON, LAT - 400 / 111_195.08))[0] == "fire"
    assert classify(zones, shapely.Point(LON, LAT - 1000 / 111_195.08))[0] == "protective"


def test_equal_distances_tie_in_the_contracts_order():
    nitrogen = CATALOGUE.get("1977")  # 100 m isolation and 100 m downwind
    zones = incident_zones(LON, LAT, nitrogen, spill="large", kind="other", at_ms=DAY)
    assert [z.name for z in zones.zones] == ["isolation", "protective"]
    assert classify(zones, shapely.Point(LON, LAT - 50 / 111_195.08))[0] == "isolation"


@pytest.mark.parametrize("local, night", [
    ((5, 59, 59_999), True), ((6, 0, 0), False), ((17, 59, 59_999), False), ((18, 0, 0), True),
    ((0, 0, 0), True), ((12, 0, 0), False)])
def test_night_is_18_to_6_local(local, night):
    hour, minute, ms = local
    assert is_night(at(hour, minute, ms)) is night


def test_the_night_switch_changes_the_distance():
    assert incident_zones(LON, LAT, CHLORINE, spill="small", kind="leak", at_ms=at(6)).distances.protective_m == 300
    assert incident_zones(LON, LAT, CHLORINE, spill="small", kind="leak", at_ms=at(18)).distances.protective_m == 1500


@pytest.mark.parametrize("speed_ms, band", [
    (None, "low"), (0.0, "low"), (2.7, "low"), (10 / 3.6, "moderate"), (5.0, "moderate"), (20 / 3.6, "moderate"),
    (5.6, "high"), (15.0, "high")])
def test_wind_bands_in_km_per_hour(speed_ms, band):
    assert wind_band(speed_ms) == band


def test_table_3_follows_the_wind_band():
    def protective(speed):
        return incident_zones(LON, LAT, CHLORINE, spill="large", kind="leak", at_ms=DAY, wind_from_deg=0,
                              wind_speed_ms=speed).distances.protective_m
    assert [protective(s) for s in (None, 1.0, 4.0, 8.0)] == [5600, 5600, 3300, 2500]


def test_without_a_direction_or_in_calm_air_the_protective_zone_is_a_circle():
    assert downwind_of(None, 3.0) is None and downwind_of(90.0, 0.0) is None
    assert downwind_of(0.0, None) == 180.0 and downwind_of(270.0, 3.0) == 90.0
    zones = incident_zones(LON, LAT, CHLORINE, spill="small", kind="leak", at_ms=NIGHT)
    protective = zones.zone("protective")
    assert protective.downwind_deg is None
    assert classify(zones, shapely.Point(LON, LAT + 1400 / 111_195.08)) == ("protective", 1400.0)


def test_the_zones_object_of_the_incident():
    zones = incident_zones(LON, LAT, LPG, spill="large", kind="fire", at_ms=DAY, **NORTH_WIND)
    answer = zones.as_json()
    assert set(answer) == {"isolation", "protective", "fire"}
    assert answer["isolation"]["radius_m"] == 100 and answer["fire"]["radius_m"] == 1600
    assert answer["protective"]["distance_m"] == 800 and answer["protective"]["downwind_deg"] == 180.0
    ring = answer["protective"]["geometry"]["coordinates"][0]
    assert answer["protective"]["geometry"]["type"] == "Polygon" and len(ring) == 5
    assert all(round(v, 6) == v for point in ring for v in point)
    assert zones.union().contains(shapely.Point(LON, LAT - 0.005))
    leak = incident_zones(LON, LAT, LPG, spill="large", kind="leak", at_ms=DAY)
    assert "fire" not in leak.as_json() and leak.as_json()["protective"]["downwind_deg"] is None
