"""The Incident as the desk assembles it: stored zones drawn again exactly, the own vehicle
left out, responders the nearest of their kinds, live geofences and event ids."""
from __future__ import annotations

import numpy as np
import shapely
from hypothesis import given, settings
from hypothesis import strategies as st

from incidents.catalogue import load_catalogue
from incidents.classify import point_hits
from incidents.desk import OPENED, Site, Vehicle, cloud_event, compute, zone_geofences, zones_of
from incidents.distances import distances
from incidents.zones import rebuild

LON, LAT, NOON = 121.85, 29.88, 1_764_907_200_000  # 2025-12-05 12:00 Beilun time
M = 1 / 111_195  # degrees of latitude a metre


def record(**over) -> dict:
    return {"incident_id": "i-1", "status": "open", "kind": "fire", "plate": "浙B00001", "carrier_id": "C1",
            "lat": LAT, "lon": LON, "opened_at": "2025-12-05T04:00:00.000Z", "closed_at": None, "notes": [], **over}


@settings(max_examples=40, deadline=None)
@given(st.sampled_from(sorted(load_catalogue().hazards)), st.sampled_from(["small", "large"]),
       st.one_of(st.none(), st.floats(0, 360)), st.sampled_from(["leak", "fire"]))
def test_stored_zones_are_drawn_again_exactly(un_number, spill, wind_from, kind):
    inputs = {"kind": kind, "spill": spill, "un_number": un_number, "wind_from_deg": wind_from, "wind_speed_ms": 4}
    _, _, zones = zones_of(inputs, load_catalogue(), LON, LAT, NOON)
    again = rebuild(LON, LAT, zones.night, zones.as_json())
    assert again.as_json() == zones.as_json()
    rng = np.random.default_rng(1)
    lons, lats = LON + rng.uniform(-0.1, 0.1, 500), LAT + rng.uniform(-0.1, 0.1, 500)
    assert point_hits(again, lons, lats) == point_hits(zones, lons, lats)


def test_the_incident_lists_others_and_the_nearest_responders():
    drawn = zones_of({"kind": "fire", "spill": "large", "un_number": "1075"}, load_catalogue(), LON, LAT, NOON)
    sites = [Site("school", "school", "学校", shapely.Point(LON, LAT - 500 * M)),
             Site("far", "hospital", "医院", shapely.Point(LON, LAT + 5000 * M))]
    responders = [Site(f"fs{n}", "fire_station", f"站{n}", shapely.Point(LON, LAT + (7 - n) * 1000 * M))
                  for n in range(7)]
    vehicles = [Vehicle("浙B00001", "C1", "1075", LAT, LON, "stopped", None),
                Vehicle("浙B00002", "C2", None, LAT + 50 * M, LON, "moving", None)]
    incident = compute(record(), drawn, sites, responders, vehicles)
    # 500 m: in the 800 m protective circle (no wind), inside the 1 600 m fire circle too; 5 km: in none
    assert [(s["id"], s["zone"]) for s in incident["sites"]] == [("school", "protective")]
    assert [(v["plate"], v["zone"]) for v in incident["vehicles"]] == [("浙B00002", "isolation")]
    assert [r["id"] for r in incident["responders"]] == ["fs6", "fs5", "fs4", "fs3", "fs2"]
    assert incident["cargo"]["un_number"] == "1075" and incident["cargo_basis"] == "given"
    fences = zone_geofences(incident, drawn[2])
    assert [g["properties"]["zone"] for g in fences] == ["isolation", "protective", "fire"]
    assert [g["properties"]["rank"] for g in fences] == [0, 1, 2]
    assert fences[0]["id"] == "incident:i-1:isolation" and fences[0]["properties"]["plate"] == "浙B00001"
    event = cloud_event(OPENED, 1, incident, "2025-12-05T04:00:00.000Z")
    assert (event["id"], event["subject"], event["source"]) == ("i-1.1", "i-1", "hazmat/incidents")


def test_an_unknown_cargo_has_no_cargo_object():
    cargo, basis, zones = zones_of({"kind": "leak", "spill": "large"}, load_catalogue(), LON, LAT, NOON)
    assert (cargo, basis) == (None, "unknown")
    assert zones.distances == distances(load_catalogue().largest, "large", night=False)
