"""Which geofences contain each point of a batch, answered mostly without geometry.

Each geofence is covered with H3 cells: cells wholly inside its area answer at once;
cells crossing its edge fall back to an exact, vectorised shapely test of just the
points that land in them. Changing one geofence re-covers only that geofence.
"""
from __future__ import annotations

import math
from collections import defaultdict

import h3.api.basic_int as h3
import numpy as np
import shapely

from geofence.features import area_of
from geofence.metric import EARTH_RADIUS_M, LocalPlane
from geofence.model import Geofence

DEFAULT_RESOLUTION = 10  # ~66 m edge: a narrow corridor still has some interior cells
# A cell counts as interior only with this margin (degrees, ~1 cm): its drawn straight
# edges and H3's true edges differ by far less, so no point can be misclassified.
INTERIOR_MARGIN_DEG = 1e-7


def _cell_polygon(cell: int) -> shapely.Polygon:
    return shapely.Polygon([(lng, lat) for lat, lng in h3.cell_to_boundary(cell)])


# Cells whose centres lie this many average edge lengths inside the area are wholly inside
# it, and every cell that touches the area has its centre within as much outside: an H3
# cell's centre-to-vertex distance is its edge length, which varies well under 2x.
BAND_EDGES = 2.5


def cover(area, resolution: int) -> tuple[set[int], set[int]]:
    """(interior cells, boundary cells) of a polygon: together every cell it touches.

    Only cells near the edge are compared with the area one by one; the rest are sorted
    by their centres in one vectorised test, so a park of 2 500 km2 is covered in well
    under a second rather than tens (each cell's polygon test costs ~50 us)."""
    band = BAND_EDGES * h3.average_hexagon_edge_length(resolution, unit="m")
    plane = LocalPlane.around(area)
    area_m = plane.to_metres(area)
    cells = list(h3.geo_to_cells(plane.to_degrees(area_m.buffer(band, quad_segs=4)), resolution))
    if not cells:
        return set(), set()
    centres = np.array([h3.cell_to_latlng(cell) for cell in cells])
    x, y = plane.xy(centres[:, 1], centres[:, 0])
    deep = shapely.contains_xy(area_m.buffer(-band, quad_segs=4), x, y)
    interior = {cell for cell, inside in zip(cells, deep) if inside}
    boundary = set()
    for cell in (cell for cell, inside in zip(cells, deep) if not inside):
        poly = _cell_polygon(cell)
        if not area.intersects(poly):
            continue
        if area.contains(poly.buffer(INTERIOR_MARGIN_DEG)):
            interior.add(cell)
        else:
            boundary.add(cell)
    return interior, boundary


Cover = tuple[set[int], set[int]]


def cover_feature(geometry: dict, properties: dict, resolution: int = DEFAULT_RESOLUTION) -> Cover:
    """The cover of a checked Feature's area (lines and points buffered as the rules see
    them): computed once when the geofence is written and stored beside it, so a worker's
    start loads arrays instead of covering every geofence again."""
    return cover(area_of(geometry, properties), resolution)


class GeofenceIndex:
    def __init__(self, resolution: int = DEFAULT_RESOLUTION) -> None:
        self.resolution = resolution
        self.geofences: dict[str, Geofence] = {}
        self._interior: dict[int, set[str]] = defaultdict(set)
        self._boundary: dict[int, set[str]] = defaultdict(set)
        self._cells: dict[str, tuple[set[int], set[int]]] = {}

    def put(self, geofence: Geofence, cells: tuple[set[int], set[int]] | None = None) -> None:
        """Add or replace one geofence (a new version re-covers only this one); `cells` is
        its cover when computed already (elsewhere than on an event loop)."""
        current = self.geofences.get(geofence.id)
        if current is not None and current.version == geofence.version:
            return
        self.remove(geofence.id)
        interior, boundary = cells or cover(geofence.area, self.resolution)
        for cell in interior:
            self._interior[cell].add(geofence.id)
        for cell in boundary:
            self._boundary[cell].add(geofence.id)
        self._cells[geofence.id] = (interior, boundary)
        self.geofences[geofence.id] = geofence

    def remove(self, gid: str) -> None:
        if gid not in self._cells:
            return
        interior, boundary = self._cells.pop(gid)
        for table, cells in ((self._interior, interior), (self._boundary, boundary)):
            for cell in cells:
                ids = table[cell]
                ids.discard(gid)
                if not ids:
                    del table[cell]
        del self.geofences[gid]

    def cells(self, lats, lons) -> list[int]:
        res = self.resolution
        return [h3.latlng_to_cell(lat, lon, res) for lat, lon in zip(lats, lons)]

    def near(self, lat: float, lon: float, metres: float, kinds: tuple[str, ...]) -> list[tuple[float, str]]:
        """(distance in metres, id) of the geofences of `kinds` within `metres` of a point,
        nearest first; 0 for those containing it. For one point at a time (a stop's centre),
        not per fix: candidates from the H3 cells around the point, then exact distances on
        a local plane, each area clipped to the neighbourhood first."""
        cell = h3.latlng_to_cell(lat, lon, self.resolution)
        # Any point within `metres` lies in a cell at most this many rings away (a cell's
        # inradius is ~0.87 edge and edges vary well under 2x: half an average edge a ring).
        edge = h3.average_hexagon_edge_length(self.resolution, unit="m")
        rings = 1 + math.ceil(metres / (0.5 * edge))
        candidates: set[str] = set()
        for c in h3.grid_disk(cell, rings):
            candidates.update(self._interior.get(c, ()))
            candidates.update(self._boundary.get(c, ()))
        plane, point = LocalPlane(lon, lat), shapely.Point(0.0, 0.0)
        margin = 2 * metres / (EARTH_RADIUS_M * math.pi / 180)  # degrees: generous at any latitude
        found = []
        for gid in candidates:
            geofence = self.geofences[gid]
            if geofence.kind not in kinds:
                continue
            if shapely.intersects_xy(geofence.area, lon, lat):
                found.append((0.0, gid))
                continue
            if metres <= 0:
                continue
            lon_margin = margin / max(math.cos(math.radians(lat)), 0.01)
            nearby = shapely.clip_by_rect(geofence.area, lon - lon_margin, lat - margin, lon + lon_margin, lat + margin)
            if nearby.is_empty:
                continue
            distance = float(shapely.distance(plane.to_metres(nearby), point))
            if distance <= metres:
                found.append((distance, gid))
        return sorted(found)

    def containing(self, lats, lons, cells: list[int] | None = None) -> list[frozenset[str]]:
        """For each point, the ids of the geofences whose area covers it (edges included)."""
        if cells is None:
            cells = self.cells(lats, lons)
        found: list[frozenset[str]] = []
        to_test: dict[str, list[int]] = defaultdict(list)
        empty: frozenset[str] = frozenset()
        for i, cell in enumerate(cells):
            inside = self._interior.get(cell)
            found.append(frozenset(inside) if inside else empty)
            for gid in self._boundary.get(cell, ()):
                to_test[gid].append(i)
        if to_test:
            xs, ys = np.asarray(lons, dtype=float), np.asarray(lats, dtype=float)
            for gid, points in to_test.items():
                idx = np.asarray(points)
                hits = shapely.intersects_xy(self.geofences[gid].area, xs[idx], ys[idx])
                for i in idx[hits]:  # few: points in a boundary cell and inside
                    found[i] = found[i] | {gid}
        return found
