"""GeoJSON geofence Features checked against docs/api.md "Geofences", one clear message per problem.

Checks the schema cannot express: rings closed and long enough, shapes valid (no
self-intersection), the geometry type each kind allows, the properties each kind needs.
"""
from __future__ import annotations

from dataclasses import dataclass

import shapely
from shapely.geometry import shape
from shapely.validation import explain_validity

from geofence.metric import LocalPlane, buffer_m

DEFAULT_BUFFER_M = 30.0
# The largest area one geofence may cover (a whole district is ~600 km2): its H3 cover
# grows with the area (~0.7 s on a worker's thread at this size).
MAX_AREA_KM2 = 2_500.0
MAX_POSITIONS = 50_000

# kind -> geometry types it may have (docs/api.md "Geofences")
ALLOWED_GEOMETRY = {
    "chem_park": ("Polygon", "MultiPolygon"),
    "parking": ("Polygon",),
    "filling_station": ("Polygon", "Point"),
    "restricted_road": ("LineString", "Polygon"),
    "no_stopping": ("Polygon",),
    "speed_zone": ("Polygon", "LineString"),
}


@dataclass(frozen=True)
class Problem:
    field: str
    message: str


class GeofenceError(ValueError):
    def __init__(self, problems: list[Problem]) -> None:
        super().__init__("; ".join(f"{p.field}: {p.message}" for p in problems))
        self.problems = problems


def _position_problems(coords, path: str) -> list[Problem]:
    if not (isinstance(coords, list) and 2 <= len(coords) <= 3 and all(
            isinstance(c, (int, float)) and not isinstance(c, bool) for c in coords)):
        return [Problem(path, "a position is [lon, lat] (optionally with altitude)")]
    lon, lat = coords[0], coords[1]
    if not (-180 <= lon <= 180 and -90 <= lat <= 90):
        return [Problem(path, f"[{lon}, {lat}] is outside [-180..180, -90..90]: positions are [lon, lat]")]
    return []


def _line_problems(coords, path: str, *, ring: bool) -> list[Problem]:
    if not isinstance(coords, list):
        return [Problem(path, "must be an array of positions")]
    problems = [p for i, c in enumerate(coords) for p in _position_problems(c, f"{path}[{i}]")]
    if problems:
        return problems
    minimum = 4 if ring else 2
    if len(coords) < minimum:
        return [Problem(path, f"needs at least {minimum} positions, has {len(coords)}")]
    if ring and coords[0][:2] != coords[-1][:2]:
        return [Problem(path, "ring is not closed: the last position must equal the first")]
    return []


def _coordinate_problems(geometry: dict) -> list[Problem]:
    kind, coords = geometry["type"], geometry["coordinates"]
    base = "geometry.coordinates"
    if kind == "Point":
        return _position_problems(coords, base)
    if kind == "LineString":
        return _line_problems(coords, base, ring=False)
    polygons = [coords] if kind == "Polygon" else coords
    prefix = [base] if kind == "Polygon" else [f"{base}[{i}]" for i in range(len(coords))]
    problems = []
    for poly_path, rings in zip(prefix, polygons):
        if not isinstance(rings, list) or not rings:
            problems.append(Problem(poly_path, "a polygon is a non-empty array of rings"))
            continue
        for j, ring in enumerate(rings):
            problems += _line_problems(ring, f"{poly_path}[{j}]", ring=True)
    return problems


def _property_problems(kind: str, geom_type: str, props: dict) -> list[Problem]:
    problems = []
    if geom_type not in ALLOWED_GEOMETRY[kind]:
        problems.append(Problem("geometry.type", f"a {kind} geofence must be {' or '.join(ALLOWED_GEOMETRY[kind])}, "
                                                 f"not {geom_type}"))
    if geom_type == "Point" and "radius_m" not in props:
        problems.append(Problem("properties.radius_m", "a Point geofence needs radius_m"))
    if kind == "filling_station" and "station_id" not in props:
        problems.append(Problem("properties.station_id", "a filling_station geofence needs station_id"))
    if kind == "speed_zone" and "speed_limit_kmh" not in props:
        problems.append(Problem("properties.speed_limit_kmh", "a speed_zone geofence needs speed_limit_kmh"))
    if "ban_windows" in props and kind != "restricted_road":
        problems.append(Problem("properties.ban_windows", "ban_windows apply to restricted_road geofences only"))
    for i, window in enumerate(props.get("ban_windows") or []):
        if window["from"] == window["to"]:
            problems.append(Problem(f"properties.ban_windows[{i}]", "from equals to: an empty window"))
    return problems


def area_of(geometry: dict, props: dict):
    """The area a geofence covers, in degrees: a station's point grown by its radius and a
    corridor's line by its half-width, in metres on the ground."""
    geom = shape(geometry)
    if geometry["type"] == "Point":
        return buffer_m(geom, float(props["radius_m"]))
    if geometry["type"] == "LineString":
        return buffer_m(geom, float(props.get("buffer_m", DEFAULT_BUFFER_M)))
    return geom


def _size_problems(geometry: dict, props: dict) -> list[Problem]:
    if shapely.get_num_coordinates(shape(geometry)) > MAX_POSITIONS:
        return [Problem("geometry.coordinates", f"more than {MAX_POSITIONS} positions")]
    area = area_of(geometry, props)
    if area.is_empty:
        return [Problem("geometry", "covers no area")]
    km2 = LocalPlane.around(area).to_metres(area).area / 1e6
    if km2 > MAX_AREA_KM2:
        return [Problem("geometry", f"covers {km2:.0f} km2; a geofence covers at most {MAX_AREA_KM2:.0f} km2")]
    return []


def _flat(coordinates):
    """Positions as [lon, lat]: GeoJSON allows an altitude, which no rule uses, and a
    geometry mixing positions with and without one is not a shape shapely can build."""
    if coordinates and isinstance(coordinates[0], (int, float)):
        return coordinates[:2]
    return [_flat(c) for c in coordinates]


def shape_problems(geometry: dict) -> tuple[dict, list[Problem]]:
    """The geometry with positions as [lon, lat], and what makes it unusable: positions
    out of range, open or short rings, an invalid or empty shape (shared with sites)."""
    geometry = {"type": geometry["type"], "coordinates": _flat(geometry["coordinates"])}
    problems = _coordinate_problems(geometry)
    if not problems:
        geom = shape(geometry)
        if geom.is_empty:
            problems.append(Problem("geometry", "the geometry is empty"))
        elif geometry["type"] in ("Polygon", "MultiPolygon") and not shapely.is_valid(geom):
            problems.append(Problem("geometry", f"invalid polygon: {explain_validity(geom)}"))
        elif geometry["type"] == "LineString" and geom.length == 0:
            problems.append(Problem("geometry", "the line has no length (all positions equal)"))
    return geometry, problems


def check_feature(feature: dict) -> dict:
    """The Feature's geometry (positions as [lon, lat]) and properties with defaults
    applied, or GeofenceError.

    `feature` has passed geofence_feature.schema.json.
    """
    props = dict(feature["properties"])
    geometry, problems = shape_problems(feature["geometry"])
    problems += _property_problems(props["kind"], geometry["type"], props)
    if not problems:
        problems += _size_problems(geometry, props)
    if problems:
        raise GeofenceError(problems)
    props.setdefault("active", True)
    if geometry["type"] == "LineString":
        props.setdefault("buffer_m", DEFAULT_BUFFER_M)
    return {"geometry": geometry, "properties": props}
