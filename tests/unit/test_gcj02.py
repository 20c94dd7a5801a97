"""WGS-84 <-> GCJ-02."""
from __future__ import annotations

import numpy as np
import shapely
from hypothesis import given
from hypothesis import strategies as st

from geofence.gcj02 import gcj02_to_wgs84, geometry_to_gcj02, wgs84_to_gcj02

CHINA = st.tuples(st.floats(75, 134), st.floats(5, 53))


def test_known_offset_in_beijing():
    # Tiananmen: a widely published WGS-84 / GCJ-02 pair of the same spot.
    lon, lat = wgs84_to_gcj02(116.391248, 39.907501)
    assert abs(lon - 116.397490) < 2e-5 and abs(lat - 39.908897) < 2e-5


def test_no_offset_outside_china():
    lon, lat = wgs84_to_gcj02(2.35, 48.85)
    assert (lon, lat) == (2.35, 48.85)


@given(CHINA)
def test_inverse_round_trips_below_a_millimetre(point):
    glon, glat = wgs84_to_gcj02(*point)
    wlon, wlat = gcj02_to_wgs84(glon, glat)
    assert abs(wlon - point[0]) < 1e-8 and abs(wlat - point[1]) < 1e-8


@given(CHINA)
def test_offset_is_at_most_a_kilometre_or_so(point):
    glon, glat = wgs84_to_gcj02(*point)
    assert abs(glon - point[0]) < 0.02 and abs(glat - point[1]) < 0.02


def test_geometries_move_vertex_by_vertex():
    square = shapely.box(121.8, 29.9, 121.9, 30.0)
    moved = geometry_to_gcj02(square)
    xs, ys = wgs84_to_gcj02(*np.array(square.exterior.coords).T)
    assert np.allclose(np.array(moved.exterior.coords), np.column_stack([xs, ys]))
