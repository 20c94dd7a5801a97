"""The demo's sample geofences and sites are valid, and each misbehaving vehicle is where its rule
applies (as the rules' own geofence index sees it)."""
from __future__ import annotations

import pytest

from geofence.features import check_feature, shape_problems
from geofence.index import GeofenceIndex
from geofence.model import compile_geofence
from tests.contracts import validate
from tracker.dev.scene import actors, sample_geofences, sample_sites

FEATURES = sample_geofences()


@pytest.mark.parametrize("feature", FEATURES, ids=lambda f: f["id"])
def test_each_sample_geofence_is_accepted(feature):
    validate("geofence_feature.schema.json", feature)
    check_feature(feature)


@pytest.mark.parametrize("feature", sample_sites(), ids=lambda f: f["id"])
def test_each_sample_site_is_accepted_and_marked_approximate(feature):
    validate("site_feature.schema.json", feature)
    assert shape_problems(feature["geometry"])[1] == []
    assert feature["properties"]["approximate"] is True


def test_the_sample_sites_hold_the_district_plans_stations_and_teams():
    kinds = [f["properties"]["kind"] for f in sample_sites()]
    assert kinds.count("fire_station") == 7 and kinds.count("enterprise_fire_team") == 14
    assert {"school", "kindergarten", "hospital", "elderly_home", "residential"} <= set(kinds)


def test_every_kind_is_there():
    kinds = {f["properties"]["kind"] for f in FEATURES}
    assert kinds == {"chem_park", "parking", "filling_station", "restricted_road", "no_stopping", "speed_zone"}
    assert all(f["properties"]["station_id"] for f in FEATURES if f["properties"]["kind"] == "filling_station")


def test_the_misbehaving_vehicles_are_where_their_rules_apply():
    index = GeofenceIndex()
    for f in FEATURES:
        index.put(compile_geofence(f["id"], 1, f["geometry"], f["properties"]))
    wanted = {"浙BS9901": set(), "浙BS9902": {"bl-nostop-school"}, "浙BS9903": {"bl-road-centre"},
              "浙BS9904": {"bl-expressway"}}
    for actor in actors():
        fixes = [actor.fix(1_000 * 10 * n, 10.0) for n in range(200)]  # 2 000 s: there and back again
        found = index.containing([f["lat"] for f in fixes], [f["lon"] for f in fixes])
        inside = [set(ids) for ids in found]
        if wanted[actor.plate]:
            assert all(wanted[actor.plate] <= ids for ids in inside), actor.plate
        else:
            assert all(not ids for ids in inside), actor.plate
        speeds = {f["speed_kmh"] for f in fixes}
        assert speeds == ({0.0} if actor.plate in ("浙BS9901", "浙BS9902") else {actor.speed_kmh})
