"""incident_zone_entry: another vehicle in an open incident's zones (the live rule of
docs/incidents.md), with the zones written as the incident desk writes them."""
from __future__ import annotations

from geofence.model import compile_geofence
from incidents.catalogue import load_catalogue
from incidents.desk import zone_geofences
from incidents.zones import incident_zones
from streams.times import rfc3339
from tests.unit.rules.harness import LAT0, LON0, MONDAY_10, Run, fix

S = 10_000  # ten seconds


def chlorine_zones(plate: str | None = "P9") -> list:
    """A chlorine leak at the harness's origin by day in a north wind: a 60 m isolation
    circle and a 300 m square to the south."""
    zones = incident_zones(LON0, LAT0, load_catalogue().get("1017"), spill="small", kind="leak", at_ms=MONDAY_10,
                           wind_from_deg=0, wind_speed_ms=3)
    incident = {"incident_id": "i-1", "cargo": {"un_number": "1017"}, "zones": zones.as_json(), "plate": plate,
                "lat": LAT0, "lon": LON0}
    return [compile_geofence(g["id"], 1, g["geometry"], {**g["properties"], "kind": "incident_zone", "name": g["name"]})
            for g in zone_geofences(incident, zones)]


def test_two_fixes_inside_open_it_with_the_innermost_zone_and_two_outside_close_it():
    run = Run(chlorine_zones())
    run.feed(fix(MONDAY_10, north_m=500), fix(MONDAY_10 + S, north_m=-200))
    assert run.kinds("incident_zone_entry") == []  # one fix inside
    run.feed(fix(MONDAY_10 + 2 * S, north_m=-30))
    assert run.kinds("incident_zone_entry") == [("opened", "incident_zone_entry")]
    opened = run.last("incident_zone_entry")
    assert opened["severity"] == "high" and set(opened["agencies"]) == {"police", "emergency"}
    assert opened["details"]["incident_id"] == "i-1" and opened["details"]["un_number"] == "1017"
    assert opened["details"]["zone"] == "isolation" and 25 < opened["details"]["distance_m"] < 35
    assert opened["started_at"] == rfc3339(MONDAY_10 + S)  # from the first fix inside
    run.feed(fix(MONDAY_10 + 3 * S, north_m=500))
    assert len(run.kinds("incident_zone_entry")) == 1  # one fix outside
    run.feed(fix(MONDAY_10 + 4 * S, north_m=-100), fix(MONDAY_10 + 5 * S, north_m=500),
             fix(MONDAY_10 + 6 * S, north_m=600))
    assert run.kinds("incident_zone_entry") == [("opened", "incident_zone_entry"), ("closed", "incident_zone_entry")]
    assert run.last("incident_zone_entry")["details"]["closed_because"] == "left"


def test_it_closes_when_the_incident_closes():
    run = Run(chlorine_zones())
    run.feed(fix(MONDAY_10, north_m=-100), fix(MONDAY_10 + S, north_m=-100))
    assert run.last("incident_zone_entry")["details"]["zone"] == "protective"
    for g in list(run.geofences):
        run.ctx.index.remove(g)
    run.feed(fix(MONDAY_10 + 2 * S, north_m=-100))
    closed = run.last("incident_zone_entry")
    assert closed["status"] == "closed" and closed["details"]["closed_because"] == "incident_closed"
    assert run.state.incidents == {}


def test_the_incidents_own_vehicle_opens_nothing():
    run = Run(chlorine_zones(plate="P1"))  # the harness's vehicle is P1
    run.feed(*(fix(MONDAY_10 + n * S, north_m=-100) for n in range(5)))
    assert run.kinds("incident_zone_entry") == [] and run.state.incidents == {}


def test_upwind_of_the_square_is_outside():
    run = Run(chlorine_zones())
    run.feed(*(fix(MONDAY_10 + n * S, north_m=100) for n in range(5)))  # north of a north wind's square
    assert run.kinds("incident_zone_entry") == []


def test_a_vehicle_gone_silent_inside_is_closed_by_the_clock_when_the_incident_closes():
    run = Run(chlorine_zones())
    run.feed(fix(MONDAY_10, north_m=-100), fix(MONDAY_10 + S, north_m=-100))
    assert run.tick(MONDAY_10 + 2 * S) == []  # the incident still open: nothing to do
    for g in list(run.geofences):
        run.ctx.index.remove(g)
    closed = run.tick(MONDAY_10 + 3 * S)
    assert [(t.rsplit(".", 1)[1], v["kind"]) for t, v in closed] == [("closed", "incident_zone_entry")]
    assert closed[0][1]["ended_at"] == rfc3339(MONDAY_10 + 3 * S)
    assert closed[0][1]["details"]["closed_because"] == "incident_closed" and run.state.incidents == {}
