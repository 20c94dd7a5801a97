"""WGS-84 <-> GCJ-02 ("Mars coordinates"), the offset datum of Chinese basemaps.

Terminals report WGS-84 and everything is stored in WGS-84; map endpoints convert on the
way out when asked for `crs=gcj02`. Outside China the offset is zero by definition.
The inverse has no closed form, so it iterates the forward transform to < 1 mm.
"""
from __future__ import annotations

import numpy as np
import shapely

_A = 6378245.0
_EE = 0.00669342162296594323


def _in_china(lon: np.ndarray, lat: np.ndarray) -> np.ndarray:
    return (lon > 73.66) & (lon < 135.05) & (lat > 3.86) & (lat < 53.55)


def _offsets(lon: np.ndarray, lat: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    x, y = lon - 105.0, lat - 35.0
    pi = np.pi
    dlat = -100.0 + 2.0 * x + 3.0 * y + 0.2 * y * y + 0.1 * x * y + 0.2 * np.sqrt(np.abs(x))
    dlat += (20.0 * np.sin(6.0 * x * pi) + 20.0 * np.sin(2.0 * x * pi)) * 2.0 / 3.0
    dlat += (20.0 * np.sin(y * pi) + 40.0 * np.sin(y / 3.0 * pi)) * 2.0 / 3.0
    dlat += (160.0 * np.sin(y / 12.0 * pi) + 320.0 * np.sin(y * pi / 30.0)) * 2.0 / 3.0
    dlon = 300.0 + x + 2.0 * y + 0.1 * x * x + 0.1 * x * y + 0.1 * np.sqrt(np.abs(x))
    dlon += (20.0 * np.sin(6.0 * x * pi) + 20.0 * np.sin(2.0 * x * pi)) * 2.0 / 3.0
    dlon += (20.0 * np.sin(x * pi) + 40.0 * np.sin(x / 3.0 * pi)) * 2.0 / 3.0
    dlon += (150.0 * np.sin(x / 12.0 * pi) + 300.0 * np.sin(x / 30.0 * pi)) * 2.0 / 3.0
    radlat = lat / 180.0 * pi
    magic = 1 - _EE * np.sin(radlat) ** 2
    sqrtmagic = np.sqrt(magic)
    dlat = (dlat * 180.0) / ((_A * (1 - _EE)) / (magic * sqrtmagic) * pi)
    dlon = (dlon * 180.0) / (_A / sqrtmagic * np.cos(radlat) * pi)
    inside = _in_china(lon, lat)
    return np.where(inside, dlon, 0.0), np.where(inside, dlat, 0.0)


def wgs84_to_gcj02(lon, lat):
    lon, lat = np.asarray(lon, dtype=float), np.asarray(lat, dtype=float)
    dlon, dlat = _offsets(lon, lat)
    return lon + dlon, lat + dlat


def gcj02_to_wgs84(lon, lat):
    glon, glat = np.asarray(lon, dtype=float), np.asarray(lat, dtype=float)
    wlon, wlat = glon.copy(), glat.copy()
    for _ in range(10):
        flon, flat = wgs84_to_gcj02(wlon, wlat)
        wlon, wlat = wlon - (flon - glon), wlat - (flat - glat)
        if np.all(np.abs(flon - glon) < 1e-9) and np.all(np.abs(flat - glat) < 1e-9):
            break
    return wlon, wlat


def geometry_to_gcj02(geometry):
    """A shapely geometry with every vertex moved to GCJ-02."""
    return shapely.transform(geometry, lambda xy: np.column_stack(wgs84_to_gcj02(xy[:, 0], xy[:, 1])))


def points_in(crs: str, lons, lats) -> list[list[float]]:
    """[lon, lat] pairs in `crs`: as given for "wgs84", moved for "gcj02" (all of an
    answer's points in one call)."""
    if crs == "gcj02":
        lons, lats = wgs84_to_gcj02(lons, lats)
    return np.column_stack((lons, lats)).tolist()
