"""`hazmat simulate` against a running API, broker, worker and PostGIS: it registers its
fleet, its vehicles move at plausible speeds, and the worker tracks them."""
from __future__ import annotations

import pytest
from prometheus_client import REGISTRY

from geofence.metric import haversine_m
from tests.topic import read_topic
from tests.waiting import until
from tracker.api.context import POOL
from tracker.dev.scene import actors, sample_checkpoints, sample_geofences, sample_sites
from tracker.dev.simulate import AREA, simulate

pytestmark = pytest.mark.integration


@pytest.fixture
def settings(settings, database_alone):
    """This module's tests on a database of their own: the sample geofences they load
    would change what later tests' workers decide."""
    return settings.with_(database_url=database_alone)


async def test_a_simulated_fleet_is_registered_moves_and_is_tracked(api, settings, topics, worker):
    vehicles, rounds, interval = 12, 3, 0.5
    counts = await simulate(str(api.client.make_url("/")), api.admin_token, vehicles=vehicles, carriers=3,
                            interval_s=interval, rounds=rounds)
    assert counts == {"accepted": vehicles * rounds, "rejected": 0, "unavailable": 0}
    fixes = [f for _, f in await read_topic(settings.kafka_bootstrap, topics.fixes, vehicles * rounds)]
    assert {f["carrier_id"] for f in fixes} == {"SIM00", "SIM01", "SIM02"}
    by_plate: dict[str, list[dict]] = {}
    for f in fixes:
        by_plate.setdefault(f["plate"], []).append(f)
    assert len(by_plate) == vehicles
    for track in by_plate.values():
        assert all(AREA[1] <= f["lat"] <= AREA[3] and AREA[0] <= f["lon"] <= AREA[2] for f in track)
        for a, b in zip(track, track[1:]):  # each round moves a vehicle by at most its speed x interval
            moved = haversine_m(a["lat"], a["lon"], b["lat"], b["lon"])
            assert moved <= b["speed_kmh"] / 3.6 * interval + 0.1
            assert 0 <= b["speed_kmh"] <= 80
    assert any(f["speed_kmh"] > 0 for f in fixes)

    async def tracked():
        n = await api.client.app[POOL].fetchval("SELECT count(*) FROM vehicle_state WHERE plate = ANY($1::text[])",
                                                list(by_plate))
        return n == vehicles or None

    await until(tracked)  # the worker keeps a state for every simulated vehicle


async def test_a_fleet_started_again_goes_on_from_where_it_was_tracked(api, settings, topics, worker):
    """A second run (`hazmat up` restarted on the same database) starts each vehicle at its
    last tracked position, not at its seed's place: no jump, no gps_jump alarm."""
    vehicles, interval = 8, 0.5
    url = str(api.client.make_url("/"))
    await simulate(url, api.admin_token, vehicles=vehicles, carriers=2, interval_s=interval, rounds=3)
    last = {f["plate"]: (f["lat"], f["lon"])
            for _, f in await read_topic(settings.kafka_bootstrap, topics.fixes, vehicles * 3)}

    async def tracked():  # the worker has every vehicle at its last fix
        rows = await api.client.app[POOL].fetch("SELECT plate, lat, lon FROM vehicle_state")
        return {r["plate"]: (r["lat"], r["lon"]) for r in rows} == last

    await until(tracked)
    await simulate(url, api.admin_token, vehicles=vehicles, carriers=2, interval_s=interval, rounds=1)
    newest: dict[str, dict] = {}  # (a plate's fixes are in order in its partition)
    for _, f in await read_topic(settings.kafka_bootstrap, topics.fixes, vehicles * 4):
        newest[f["plate"]] = f
    assert set(newest) == set(last)
    for f in newest.values():  # one round on from there (the seed's places are kilometres away)
        lat, lon = last[f["plate"]]
        assert haversine_m(lat, lon, f["lat"], f["lon"]) <= f["speed_kmh"] / 3.6 * interval + 0.1


async def test_a_mixed_fleet_reports_through_terminals_and_the_api(api, settings, topics, gateway):
    """Half the fleet are JT/T 808 terminals (2013 and 2019); with a tunnel at every chance,
    each terminal keeps its positions a few rounds and back-fills them as a blind-area batch."""
    vehicles, rounds = 8, 6
    batches = REGISTRY.get_sample_value("hazmat_jt808_frames_total", {"msg_id": "0x0704"}) or 0
    counts = await simulate(str(api.client.make_url("/")), api.admin_token, vehicles=vehicles, carriers=2,
                            interval_s=0.3, rounds=rounds, protocol="mixed", jt808=("127.0.0.1", gateway.port),
                            tunnel_p=0.3, tunnel_rounds=(1, 3), seed=7)
    assert counts == {"accepted": vehicles * rounds, "rejected": 0, "unavailable": 0}
    fixes = [f for _, f in await read_topic(settings.kafka_bootstrap, topics.fixes, counts["accepted"])]
    sources = {f["plate"]: f["source"] for f in fixes}
    assert sorted(sources.values()) == ["http"] * 4 + ["jt808"] * 4
    terminal_fixes = [f for f in fixes if f["source"] == "jt808"]
    assert all("status_flags" in f and "mileage_km" in f and "sats" in f for f in terminal_fixes)
    # positions kept in a tunnel arrive rounds late, in blind-area batches
    assert REGISTRY.get_sample_value("hazmat_jt808_frames_total", {"msg_id": "0x0704"}) > batches
    assert max(f["received_at"] - f["ts"] for f in terminal_fixes) >= 300
    _, listed = await api.json("GET", "/v1/terminals", api.admin_token, expect=200)
    simulated = [item for item in listed["items"] if item["plate"] in sources and sources[item["plate"]] == "jt808"]
    assert len(simulated) == 4 and {item["header_version"] for item in simulated} == {"2013", "2019"}

    async def hung_up():
        _, again = await api.json("GET", "/v1/terminals?connected=false", api.admin_token, expect=200)
        return {item["plate"] for item in again["items"]} >= {item["plate"] for item in simulated} or None

    await until(hung_up, 10)
async def test_the_scene_loads_geofences_misbehaves_and_fills(api, settings, topics, monkeypatch):
    """`hazmat up --simulate` also loads the sample geofences, drives the vehicles that
    break rules, and has the stations post filling records through their own tokens."""
    monkeypatch.setattr("tracker.dev.scene.FILL_EVERY", 1)
    counts = await simulate(str(api.client.make_url("/")), api.admin_token, vehicles=4, carriers=1,
                            interval_s=0.2, rounds=2, scene=True)
    reporting = [a for a in actors() if not a.dark]  # (one drives with its terminal off)
    assert counts == {"accepted": (4 + len(reporting)) * 2, "rejected": 0, "unavailable": 0}
    _, fences = await api.json("GET", "/v1/geofences", api.admin_token, expect=200)
    assert {f["id"] for f in sample_geofences()} <= {f["id"] for f in fences["features"]}
    _, sites = await api.json("GET", "/v1/sites", api.admin_token, expect=200)
    assert {f["id"] for f in sample_sites()} <= {f["id"] for f in sites["features"]}
    fixes = [f for _, f in await read_topic(settings.kafka_bootstrap, topics.fixes, (4 + len(reporting)) * 2)]
    assert {a.plate for a in reporting} <= {f["plate"] for f in fixes}
    _, checkpoints = await api.json("GET", "/v1/checkpoints", api.admin_token, expect=200)
    assert {f["id"] for f in sample_checkpoints()} <= {f["id"] for f in checkpoints["features"]}
    reads = [r for _, r in await read_topic(settings.kafka_bootstrap, topics.plate_reads, 1)]
    assert reads[0]["plate"] == "浙BS9906"  # the dark one, read at its gate in the first round
    records = [r for _, r in await read_topic(settings.kafka_bootstrap, topics.filling, 2)]
    assert sorted(r["quantity_kg"] for r in records) == [20000, 38000]  # one plain, one above the 30 t tank
    assert {r["station_id"] for r in records} <= {f["properties"].get("station_id") for f in sample_geofences()}


async def test_a_mixed_fleet_also_reports_through_carriers_platforms(api, settings, topics, gateway):
    """With five carriers or more, a fifth of them report through JT/T 809 platforms the
    simulator registers (PUT /v1/platforms); `--protocol jt809` sends every carrier so."""
    from tests.platforms import start_server

    server, stop = await start_server(settings)
    try:
        vehicles, rounds = 10, 3
        counts = await simulate(str(api.client.make_url("/")), api.admin_token, vehicles=vehicles, carriers=5,
                                interval_s=0.3, rounds=rounds, protocol="mixed",
                                jt808=("127.0.0.1", gateway.port), jt809=("127.0.0.1", server.port), seed=3)
        assert counts == {"accepted": vehicles * rounds, "rejected": 0, "unavailable": 0}
        fixes = [f for _, f in await read_topic(settings.kafka_bootstrap, topics.fixes, vehicles * rounds)]
        sources = {f["plate"]: f["source"] for f in fixes}
        assert sorted(sources.values()) == ["http"] * 4 + ["jt808"] * 4 + ["jt809"] * 2
        counts = await simulate(str(api.client.make_url("/")), api.admin_token, vehicles=6, carriers=3,
                                interval_s=0.3, rounds=2, protocol="jt809", jt809=("127.0.0.1", server.port))
        assert counts == {"accepted": 12, "rejected": 0, "unavailable": 0}
        _, listed = await api.json("GET", "/v1/platforms", api.admin_token, expect=200)
        simulated = {item["id"]: item for item in listed["items"] if item["id"].startswith("sim-")}
        assert len(simulated) == 4 and {item["version"] for item in simulated.values()} == {"2011", "2019"}
        assert any(item["encrypted"] for item in simulated.values())
    finally:
        await stop()
