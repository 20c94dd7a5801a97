"""The H3 index answers exactly as brute-force shapely, including within a metre of edges."""
from __future__ import annotations

import math

import shapely
from hypothesis import given, settings
from hypothesis import strategies as st

from geofence.index import GeofenceIndex
from geofence.metric import haversine_m
from geofence.model import compile_geofence

PARK = {"type": "Polygon", "coordinates": [[[121.800, 29.900], [121.830, 29.902], [121.835, 29.930],
                                            [121.812, 29.925], [121.800, 29.900]],
                                           [[121.815, 29.910], [121.820, 29.910], [121.820, 29.915],
                                            [121.815, 29.910]]]}
ROAD = {"type": "LineString", "coordinates": [[121.790, 29.905], [121.840, 29.918], [121.850, 29.940]]}
STATION = {"type": "Point", "coordinates": [121.825, 29.912]}
MULTI = {"type": "MultiPolygon", "coordinates": [
    [[[121.84, 29.90], [121.845, 29.90], [121.845, 29.905], [121.84, 29.905], [121.84, 29.90]]],
    [[[121.85, 29.91], [121.855, 29.91], [121.855, 29.915], [121.85, 29.915], [121.85, 29.91]]]]}

GEOFENCES = [
    compile_geofence("park", 1, PARK, {"kind": "chem_park"}),
    compile_geofence("road", 1, ROAD, {"kind": "restricted_road", "buffer_m": 30}),
    compile_geofence("station", 1, STATION, {"kind": "filling_station", "radius_m": 150, "station_id": "S"}),
    compile_geofence("multi", 1, MULTI, {"kind": "parking"}),
]


def index() -> GeofenceIndex:
    idx = GeofenceIndex()
    for g in GEOFENCES:
        idx.put(g)
    return idx


INDEX = index()


def brute(lat: float, lon: float) -> frozenset[str]:
    return frozenset(g.id for g in GEOFENCES if shapely.intersects_xy(g.area, lon, lat))


points = st.tuples(st.floats(29.895, 29.945), st.floats(121.785, 121.860))


@settings(max_examples=3000)
@given(st.lists(points, min_size=1, max_size=50))
def test_index_equals_brute_force_on_random_points(batch):
    lats, lons = [p[0] for p in batch], [p[1] for p in batch]
    assert INDEX.containing(lats, lons) == [brute(lat, lon) for lat, lon in batch]


def _near_edges():
    """Points within a metre either side of every geofence's edges."""
    boundaries = [shapely.get_coordinates(shapely.segmentize(g.area.boundary, 0.0005)) for g in GEOFENCES]
    return st.sampled_from([tuple(p) for b in boundaries for p in b])


@settings(max_examples=3000)
@given(_near_edges(), st.floats(-1.0, 1.0), st.floats(-1.0, 1.0))
def test_index_equals_brute_force_within_a_metre_of_edges(vertex, dx_m, dy_m):
    lon = vertex[0] + dx_m / (111_320 * math.cos(math.radians(vertex[1])))
    lat = vertex[1] + dy_m / 110_574
    assert INDEX.containing([lat], [lon]) == [brute(lat, lon)]


def test_buffers_are_metres_on_the_ground():
    lon0, lat0 = STATION["coordinates"]
    for bearing in range(0, 360, 15):
        # a point 149 m away is inside, 151 m is outside, in every direction
        for dist, inside in ((149, True), (151, False)):
            dlat = dist * math.cos(math.radians(bearing)) / 111_195
            dlon = dist * math.sin(math.radians(bearing)) / (111_195 * math.cos(math.radians(lat0)))
            assert abs(haversine_m(lat0, lon0, lat0 + dlat, lon0 + dlon) - dist) < 0.5
            assert ("station" in INDEX.containing([lat0 + dlat], [lon0 + dlon])[0]) is inside


def test_holes_are_outside():
    assert "park" not in INDEX.containing([29.9115], [121.8175])[0]


def test_replacing_a_version_rebuilds_only_that_geofence_and_remove_forgets_it():
    idx = index()
    moved = compile_geofence("station", 2, {"type": "Point", "coordinates": [121.80, 29.90]},
                             {"kind": "filling_station", "radius_m": 150, "station_id": "S"})
    before_park = idx._cells["park"]
    idx.put(moved)
    assert idx._cells["park"] is before_park
    assert "station" not in idx.containing([29.912], [121.825])[0]
    assert "station" in idx.containing([29.9001], [121.8001])[0]
    idx.remove("station")
    assert all("station" not in ids for ids in idx._interior.values())
    assert all("station" not in ids for ids in idx._boundary.values())
    assert "station" not in idx.containing([29.9001], [121.8001])[0]


def test_most_points_inside_a_large_area_need_no_geometry_test():
    interior, boundary = INDEX._cells["park"]
    assert len(interior) > 3 * len(boundary)


def _brute_distance_m(geofence, lat: float, lon: float) -> float:
    """Metres from a point to an area: the area on a fine local plane about the point."""
    from geofence.metric import LocalPlane
    plane = LocalPlane(lon, lat)
    return float(shapely.distance(plane.to_metres(geofence.area), shapely.Point(0, 0)))


@settings(max_examples=1000, deadline=None)
@given(_near_edges(), st.floats(-500, 500), st.floats(-500, 500), st.sampled_from([0.0, 10.0, 25.0, 100.0, 400.0]))
def test_near_equals_brute_force_distances(vertex, east_m, north_m, metres):
    """Around every edge, out to 500 m: the same zones as brute force, the same metres."""
    lon = vertex[0] + east_m / (111_320 * math.cos(math.radians(vertex[1])))
    lat = vertex[1] + north_m / 110_574
    kinds = ("chem_park", "parking", "filling_station", "restricted_road")
    found = INDEX.near(lat, lon, metres, kinds)
    brute = {g.id: d for g in GEOFENCES if g.kind in kinds and (d := _brute_distance_m(g, lat, lon)) <= metres}
    near = {gid: d for d, gid in found}
    # Within a centimetre of `metres` either answer is right.
    assert {g for g, d in near.items() if d < metres - 0.01} <= set(brute) <= set(near) | {
        g for g, d in brute.items() if d > metres - 0.01}
    assert all(abs(d - brute[g]) < 0.01 for g, d in near.items() if g in brute)
    assert [d for d, _ in found] == sorted(d for d, _ in found)
    assert INDEX.near(lat, lon, metres, ("no_stopping",)) == []
