"""An Incident as the contract shows it (docs/incidents.md), computed from what it
was opened and patched with, the catalogue, and the sites and vehicles near it.

Pure: the process (tracker/api/incidents.py with tracker/db/incidents.py) reads the
inputs, the sites and the vehicles' last positions, calls `compute`, and stores the
answer with its live geofences (`zone_geofences`) and its event (`cloud_event`).
"""
from __future__ import annotations

from typing import NamedTuple, Sequence

from geofence.model import incident_zone_id
from incidents.catalogue import UNKNOWN, Catalogue, cargo_basis
from incidents.classify import geometry_hits, nearest, point_hits
from incidents.zones import IncidentZones, incident_zones

OPENED, UPDATED, CLOSED = "hazmat.incident.opened", "hazmat.incident.updated", "hazmat.incident.closed"
SOURCE = "hazmat/incidents"
RESPONDERS = 5  # the nearest fire stations and enterprise fire teams listed


class Site(NamedTuple):  # a tuple: thousands are made for a large zone
    id: str
    kind: str
    name: str
    geometry: object  # shapely, WGS-84


class Vehicle(NamedTuple):
    plate: str
    carrier_id: str | None
    un_number: str | None  # of its waybill active now
    lat: float
    lon: float
    status: str | None
    last_seen_at: str | None  # RFC 3339


def zones_of(inputs: dict, catalogue: Catalogue, lon: float, lat: float, at_ms: int):
    """(cargo object or None, cargo_basis, IncidentZones) for the inputs: `kind`, `spill`,
    `un_number` (given), `waybill_un_number` (the plate's waybill when opened), wind."""
    un_number, basis = cargo_basis(inputs.get("un_number"), inputs.get("waybill_un_number"))
    hazard = catalogue.resolve(un_number)
    zones = incident_zones(lon, lat, hazard, spill=inputs["spill"], kind=inputs["kind"], at_ms=at_ms,
                           wind_from_deg=inputs.get("wind_from_deg"), wind_speed_ms=inputs.get("wind_speed_ms"))
    return (None if basis == UNKNOWN else hazard.cargo()), basis, zones


def site_list(zones: IncidentZones, sites: Sequence[Site]) -> list[dict]:
    """Sites reaching into any zone, nearest first, with their innermost zone."""
    return [{"id": s.id, "kind": s.kind, "name": s.name, "zone": h.zone, "distance_m": h.distance_m}
            for h in geometry_hits(zones, [s.geometry for s in sites]) for s in (sites[h.index],)]


def vehicle_list(zones: IncidentZones, vehicles: Sequence[Vehicle], own_plate: str | None) -> list[dict]:
    """Vehicles (not the incident's own) whose last position is inside any zone, nearest first."""
    others = [v for v in vehicles if v.plate != own_plate]
    hits = point_hits(zones, [v.lon for v in others], [v.lat for v in others])
    return [{"plate": v.plate, "carrier_id": v.carrier_id, "un_number": v.un_number, "zone": h.zone,
             "distance_m": h.distance_m, "status": v.status, "last_seen_at": v.last_seen_at}
            for h in hits for v in (others[h.index],)]


def responder_list(zones: IncidentZones, responders: Sequence[Site]) -> list[dict]:
    """The RESPONDERS nearest fire stations and enterprise fire teams, in a zone or not."""
    return [{"id": s.id, "kind": s.kind, "name": s.name, "distance_m": distance}
            for i, distance in nearest(zones, [s.geometry for s in responders], RESPONDERS)
            for s in (responders[i],)]


def compute(record: dict, drawn: tuple, sites: Sequence[Site], responders: Sequence[Site],
            vehicles: Sequence[Vehicle]) -> dict:
    """The Incident of `record` (incident_id, status, kind, plate, carrier_id, lat, lon,
    opened_at, closed_at, notes) with `drawn`, what `zones_of` gave for its inputs."""
    cargo, basis, zones = drawn
    return {
        "incident_id": record["incident_id"], "status": record["status"], "kind": record["kind"],
        "plate": record["plate"], "carrier_id": record["carrier_id"], "lat": record["lat"], "lon": record["lon"],
        "opened_at": record["opened_at"], "closed_at": record["closed_at"], "night": zones.night,
        "cargo": cargo, "cargo_basis": basis, "zones": zones.as_json(),
        "sites": site_list(zones, sites), "vehicles": vehicle_list(zones, vehicles, record["plate"]),
        "responders": responder_list(zones, responders), "notes": record["notes"],
    }


def zone_geofences(incident: dict, zones: IncidentZones) -> list[dict]:
    """The live rule's temporary geofences of an open incident, one a zone (innermost
    first): id, name, properties (incident_id, zone, rank, un_number, plate, lat, lon) and
    the WGS-84 geometry as GeoJSON."""
    cargo = incident["cargo"] or {}
    drawn = incident["zones"]
    return [{"id": incident_zone_id(incident["incident_id"], z.name),
             "name": f"事故 {incident['incident_id']} {z.name}",
             "properties": {"incident_id": incident["incident_id"], "zone": z.name, "rank": rank,
                            "un_number": cargo.get("un_number"), "plate": incident["plate"],
                            "lat": incident["lat"], "lon": incident["lon"]},
             "geometry": drawn[z.name]["geometry"]}
            for rank, z in enumerate(zones.zones)]


def cloud_event(event_type: str, n: int, incident: dict, time: str) -> dict:
    """The CloudEvent of an incident's n-th change (ids `<incident_id>.<n>`)."""
    return {"specversion": "1.0", "id": f"{incident['incident_id']}.{n}", "source": SOURCE, "type": event_type,
            "time": time, "subject": incident["incident_id"], "datacontenttype": "application/json",
            "data": incident}
