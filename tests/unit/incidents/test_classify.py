"""The vectorised classifier answers as a brute force does: great-circle distances point
by point and an explicit rotated-square test, away from the edges by the plane's error."""
from __future__ import annotations

import math

import numpy as np
import shapely
from hypothesis import given, settings
from hypothesis import strategies as st

from geofence.metric import haversine_m
from incidents.catalogue import load_catalogue
from incidents.classify import classify, geometry_hits, nearest, point_hits
from incidents.zones import incident_zones

CATALOGUE = load_catalogue()
HAZARDS = sorted(CATALOGUE.hazards.values(), key=lambda h: h.un_number) + [CATALOGUE.largest]


def bearing(lat1, lon1, lat2, lon2) -> float:
    p1, p2, dl = math.radians(lat1), math.radians(lat2), math.radians(lon2 - lon1)
    y = math.sin(dl) * math.cos(p2)
    x = math.cos(p1) * math.sin(p2) - math.sin(p1) * math.cos(p2) * math.cos(dl)
    return math.degrees(math.atan2(y, x))


def margins(zones, lat, lon) -> tuple[float, dict[str, float]]:
    """(distance, each zone's signed margin: > 0 inside) on the sphere, one point at a time."""
    d = haversine_m(zones.lat, zones.lon, lat, lon)
    found = {}
    for z in zones.zones:
        if z.downwind_deg is None:
            found[z.name] = z.metres - d
            continue
        t = math.radians(bearing(zones.lat, zones.lon, lat, lon) - z.downwind_deg)
        along, across = d * math.cos(t), d * math.sin(t)
        found[z.name] = min(along, z.metres - along, z.metres / 2 - abs(across))
    return d, found


def expected(zones, found: dict[str, float]) -> str | None:
    return next((z.name for z in zones.zones if found[z.name] >= 0), None)


def tolerance(d: float) -> float:
    return 0.002 * d + 1.0  # the local plane's error across 10 km, and rounding


incidents = st.builds(
    lambda lon, lat, hazard, spill, kind, wind, speed, at_ms: incident_zones(
        lon, lat, hazard, spill=spill, kind=kind, at_ms=at_ms, wind_from_deg=wind, wind_speed_ms=speed),
    st.floats(121.0, 122.5), st.floats(29.0, 31.0), st.sampled_from(HAZARDS), st.sampled_from(["small", "large"]),
    st.sampled_from(["leak", "fire", "explosion"]), st.one_of(st.none(), st.floats(0, 360)),
    st.one_of(st.none(), st.floats(0.5, 15)), st.integers(1_700_000_000_000, 1_800_000_000_000))
# (bearing, distance as a fraction of the largest zone's size): most points near some zone
polar = st.tuples(st.floats(0, 360), st.floats(0, 1.6))


def placed(zones, bearing_deg: float, fraction: float) -> tuple[float, float]:
    """(lon, lat) roughly that far and in that direction from the incident."""
    metres = fraction * max(z.metres for z in zones.zones)
    t = math.radians(bearing_deg)
    return (zones.lon + metres * math.sin(t) / (111_195 * math.cos(math.radians(zones.lat))),
            zones.lat + metres * math.cos(t) / 111_195)


@settings(max_examples=300, deadline=None)
@given(incidents, st.lists(polar, min_size=1, max_size=40))
def test_points_classify_as_the_brute_force(zones, offsets):
    lons, lats = zip(*(placed(zones, *offset) for offset in offsets))
    hits = {hit.index: hit for hit in point_hits(zones, lons, lats)}
    for i, (lon, lat) in enumerate(zip(lons, lats)):
        d, found = margins(zones, lat, lon)
        if min(abs(m) for m in found.values()) < tolerance(d):
            continue  # too near an edge for the plane and the sphere to agree
        zone = expected(zones, found)
        assert (hits[i].zone if i in hits else None) == zone
        if zone is not None:
            assert abs(hits[i].distance_m - d) <= tolerance(d)
    distances = [hit.distance_m for hit in point_hits(zones, lons, lats)]
    assert distances == sorted(distances)


def sampled(polygon) -> list[tuple[float, float]]:
    """The polygon's boundary every metre or so."""
    return list(shapely.segmentize(polygon, 1e-5).exterior.coords)


@settings(max_examples=150, deadline=None)
@given(incidents, st.lists(st.tuples(polar, st.floats(20, 300), st.floats(20, 300)), min_size=1, max_size=8))
def test_site_polygons_classify_as_the_brute_force(zones, boxes):
    corners = [(placed(zones, *offset), w, h) for offset, w, h in boxes]
    sites = [shapely.box(lon, lat, lon + w / 96_000, lat + h / 111_000) for (lon, lat), w, h in corners]
    hits = {hit.index: hit for hit in geometry_hits(zones, sites)}
    for i, site in enumerate(sites):
        if site.contains(shapely.Point(zones.lon, zones.lat)):
            assert (hits[i].zone, hits[i].distance_m) == (zones.zones[0].name, 0.0)
            continue
        samples = [margins(zones, lat, lon) for lon, lat in sampled(site)]
        d = min(s[0] for s in samples)
        best = {z.name: max(s[1][z.name] for s in samples) for z in zones.zones}  # the part deepest inside
        if min(abs(m) for m in best.values()) < tolerance(d) + 1:
            continue
        zone = expected(zones, best)
        assert (hits[i].zone if i in hits else None) == zone
        assert abs(classify(zones, site)[1] - d) <= tolerance(d) + 1


def test_points_and_point_geometries_agree():
    zones = incident_zones(121.85, 29.93, CATALOGUE.get("1017"), spill="large", kind="fire", at_ms=0, wind_from_deg=45)
    rng = np.random.default_rng(7)
    lons, lats = 121.85 + rng.uniform(-0.08, 0.08, 2000), 29.93 + rng.uniform(-0.08, 0.08, 2000)
    as_points = point_hits(zones, lons, lats)
    as_geometries = geometry_hits(zones, shapely.points(lons, lats))
    assert len(as_points) > 100
    assert [(h.index, h.zone) for h in as_points] == [(h.index, h.zone) for h in as_geometries]


def test_nearest_responders_in_order_whether_or_not_inside_a_zone():
    zones = incident_zones(121.85, 29.93, CATALOGUE.get("1203"), spill="small", kind="leak", at_ms=0)
    stations = [shapely.Point(121.85, 29.93 + km / 111.195) for km in (9, 3, 0.01, 5, 3)]
    assert nearest(zones, stations, 3) == [(2, 10.0), (1, 3000.0), (4, 3000.0)]
    assert nearest(zones, stations, 10)[-1] == (0, 9000.0)
    assert nearest(zones, [], 5) == [] and nearest(zones, stations, 0) == []


def test_an_empty_batch_has_no_hits():
    zones = incident_zones(121.85, 29.93, CATALOGUE.get("1203"), spill="small", kind="leak", at_ms=0)
    assert point_hits(zones, [], []) == [] and geometry_hits(zones, []) == []
