"""The demo's sample geofences and sites are valid, and each misbehaving vehicle is where its rule
applies (as the rules' own geofence index sees it)."""
from __future__ import annotations

import pytest

from geofence.features import check_feature, shape_problems
from geofence.index import GeofenceIndex
from geofence.metric import haversine_m
from geofence.model import compile_geofence
from streams.times import now_ms
from tests.contracts import validate
from tracker.dev.scene import READ_EVERY, Scene, actors, sample_checkpoints, sample_geofences, sample_sites

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
    for actor in actors()[:4]:
        fixes = [actor.fix(1_000 * 10 * n, 10.0) for n in range(200)]  # 2 000 s: there and back again
        found = index.containing([f["lat"] for f in fixes], [f["lon"] for f in fixes])
        inside = [set(ids) for ids in found]
        if wanted[actor.plate]:
            assert all(wanted[actor.plate] <= ids for ids in inside), actor.plate
        else:
            assert all(not ids for ids in inside), actor.plate
        speeds = {f["speed_kmh"] for f in fixes}
        assert speeds == ({0.0} if actor.plate in ("浙BS9901", "浙BS9902") else {actor.speed_kmh})


def test_the_checkpoints_are_the_parks_gates_and_read_who_passes():
    for feature in sample_checkpoints():
        validate("checkpoint_feature.schema.json", feature)
    gates = {f["id"]: f["geometry"]["coordinates"] for f in sample_checkpoints()}
    assert len(gates) == 3
    scene = Scene("C1", {}, [])
    passer, dark = scene.actors[4], scene.actors[5]
    assert dark.dark and not passer.dark
    read_at: dict[str, list[int]] = {}
    t0 = now_ms()
    for n in range(1, 400):
        fixes = scene.fixes(t0 + n * 10_000, 10.0)
        assert dark.plate not in {f["plate"] for f in fixes}
        for cid, reads in scene.reads(t0 + n * 10_000, n).items():
            for r in reads:
                validate("plate_read.schema.json", r)
                read_at.setdefault(r["plate"], []).append(n)
    assert read_at[dark.plate] == list(range(1, 400, READ_EVERY))
    passes = read_at[passer.plate]
    assert len(passes) >= 4 and all(b - a >= 6 for a, b in zip(passes, passes[1:]))


def test_a_scene_started_again_goes_on_from_where_its_actors_were_tracked():
    """`hazmat up` restarted: each shuttling actor resumes near its last tracked place
    (within one round's travel), not at the start of its way, which would be a gps_jump."""
    interval = 10.0
    before = Scene("SIM00", {}, [])
    for round_no in range(37):  # some way along, past a turn for the expressway's
        last = {f["plate"]: (f["lat"], f["lon"]) for f in before.fixes(round_no * 10_000, interval)}
    again = Scene("SIM00", {}, [])
    again.resume(last)
    for f in again.fixes(0, interval):
        lat, lon = last[f["plate"]]
        assert haversine_m(lat, lon, f["lat"], f["lon"]) <= f["speed_kmh"] / 3.6 * interval + 10.0
    fresh = {f["plate"]: f for f in Scene("SIM00", {}, []).fixes(0, interval)}
    assert haversine_m(*last["浙BS9904"], fresh["浙BS9904"]["lat"], fresh["浙BS9904"]["lon"]) > 1000  # (else no test)
