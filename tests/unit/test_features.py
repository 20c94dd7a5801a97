"""Geofence Feature checks beyond the schema (closed rings, valid shapes, kind rules)."""
from __future__ import annotations

import pytest

from geofence.features import GeofenceError, check_feature

SQUARE = [[[121.8, 29.9], [121.9, 29.9], [121.9, 30.0], [121.8, 30.0], [121.8, 29.9]]]


def feature(geometry: dict, **props) -> dict:
    return {"type": "Feature", "geometry": geometry, "properties": {"name": "n", **props}}


def fields(exc: GeofenceError) -> list[str]:
    return [p.field for p in exc.problems]


def test_polygon_with_hole_and_multipolygon_are_accepted():
    hole = [[121.85, 29.95], [121.86, 29.95], [121.86, 29.96], [121.85, 29.95]]
    out = check_feature(feature({"type": "Polygon", "coordinates": SQUARE + [hole]}, kind="chem_park"))
    assert out["properties"]["active"] is True
    check_feature(feature({"type": "MultiPolygon", "coordinates": [SQUARE]}, kind="chem_park"))


def test_line_gets_default_buffer_but_keeps_a_given_one():
    line = {"type": "LineString", "coordinates": [[121.8, 29.9], [121.9, 29.9]]}
    assert check_feature(feature(line, kind="restricted_road"))["properties"]["buffer_m"] == 30
    assert check_feature(feature(line, kind="speed_zone", speed_limit_kmh=80, buffer_m=50))["properties"]["buffer_m"] == 50


@pytest.mark.parametrize("geometry, props, field", [
    ({"type": "Polygon", "coordinates": [SQUARE[0][:-1]]}, {"kind": "parking"}, "geometry.coordinates[0]"),
    ({"type": "Polygon", "coordinates": [SQUARE[0][:3]]}, {"kind": "parking"}, "geometry.coordinates[0]"),
    ({"type": "Polygon", "coordinates": [[[121.8, 29.9], [121.9, 30.0], [121.9, 29.9], [121.8, 30.0], [121.8, 29.9]]]},
     {"kind": "parking"}, "geometry"),
    ({"type": "MultiPolygon", "coordinates": [[SQUARE[0][:-1]]]}, {"kind": "chem_park"}, "geometry.coordinates[0][0]"),
    ({"type": "LineString", "coordinates": [[121.8, 29.9], [121.8, 29.9]]}, {"kind": "restricted_road"}, "geometry"),
    ({"type": "LineString", "coordinates": [[121.8, 29.9]]}, {"kind": "restricted_road"}, "geometry.coordinates"),
    ({"type": "Point", "coordinates": [121.8, 29.9]}, {"kind": "filling_station", "station_id": "S"},
     "properties.radius_m"),
    ({"type": "Point", "coordinates": [121.8, 29.9]}, {"kind": "filling_station", "radius_m": 80},
     "properties.station_id"),
    ({"type": "Point", "coordinates": [221.8, 29.9]}, {"kind": "filling_station", "radius_m": 80, "station_id": "S"},
     "geometry.coordinates"),
    ({"type": "Polygon", "coordinates": SQUARE}, {"kind": "speed_zone"}, "properties.speed_limit_kmh"),
    ({"type": "LineString", "coordinates": [[121.8, 29.9], [121.9, 29.9]]}, {"kind": "parking"}, "geometry.type"),
    ({"type": "Polygon", "coordinates": SQUARE}, {"kind": "parking", "ban_windows": [{"from": "01:00", "to": "02:00"}]},
     "properties.ban_windows"),
    ({"type": "Polygon", "coordinates": SQUARE}, {"kind": "restricted_road", "ban_windows": [{"from": "01:00",
                                                                                              "to": "01:00"}]},
     "properties.ban_windows[0]"),
])
def test_each_problem_is_named(geometry, props, field):
    with pytest.raises(GeofenceError) as caught:
        check_feature(feature(geometry, **props))
    assert field in fields(caught.value)


def test_all_problems_are_reported_together():
    with pytest.raises(GeofenceError) as caught:
        check_feature(feature({"type": "LineString", "coordinates": [[121.8, 29.9]]}, kind="parking"))
    assert set(fields(caught.value)) == {"geometry.coordinates", "geometry.type"}


def test_positions_with_and_without_altitude_are_one_line():
    """Found by Schemathesis: a LineString mixing [lon, lat] and [lon, lat, alt] made a 500."""
    feature = {"type": "Feature", "geometry": {"type": "LineString",
                                               "coordinates": [[121.80, 29.90, 12.5], [121.81, 29.90], [121.82, 29.91, 0]]},
               "properties": {"kind": "restricted_road", "name": "road"}}
    clean = check_feature(feature)
    assert clean["geometry"]["coordinates"] == [[121.80, 29.90], [121.81, 29.90], [121.82, 29.91]]
