"""GET /v1/reports/kpis over a known local day (2026-11-10) in a database of its own: every
figure computed by hand below from the rows written, per carrier, for the district, for the
month, and as CSV."""
from __future__ import annotations

import math
from datetime import datetime, timezone

import pytest

from streams.rules.violations import open_violation, withdraw_violation, close_violation
from tests import stack
from tests.client import Api, ApiTestServer, fleet_body
from tests.contracts import validate
from tracker.api.app import create_app
from tracker.api.context import POOL
from tracker.auth import ADMIN, insert_token, new_token
from tracker.db.batches import BatchResult, write_batch
from tracker.db.violations import violation_row
from tracker.reports.definitions import from_csv

pytestmark = pytest.mark.integration
R = 6_371_008.7714  # ST_DistanceSphere's sphere (WGS-84 mean radius): along a meridian, metres = R x radians
MINUTE = 60_000


def ms(text: str) -> int:
    return int(datetime.fromisoformat(text).replace(tzinfo=timezone.utc).timestamp() * 1000)


def north(metres: float) -> float:
    return 29.9 + math.degrees(metres / R)


def row(plate, ts, north_m, speed=40.0):
    return (plate, ts, north(north_m), 121.8, speed, 0.0, None, 0, "http", ts)


@pytest.fixture
def reports_db(pg_server):
    with stack.fresh_database(pg_server) as url:
        yield url


@pytest.fixture
async def day(aiohttp_client, settings, reports_db):
    """Carrier A: A0 drives 13 fixes on the day (12 km: 9 x 1 km a minute apart, a 10-min
    gap over 1 km, 2 x 1 km; one fix at 170 km/h), A1 never reports. Carrier B: B0 reports 3
    fixes (6 km in a minute, then 0.5 km), B1 reported only the evening before (local).
    Dead letters: 2 of A0's fixes and 1 unknown plate's on the day, a filling record's, one
    of A0's the next day. Violations: A0 speeding + gps_jump (+ a withdrawn offline, + a
    speeding the next day), B0 2 gps_jump + 1 offline_displacement."""
    client = await aiohttp_client(ApiTestServer(create_app(settings.with_(database_url=reports_db))))
    token = new_token()
    pool = client.app[POOL]
    await insert_token(pool, token, ADMIN, "test admin")
    api = Api(client, token)
    fleet, body = fleet_body()
    await api.json("PUT", "/v1/registry", token, expect=200, json=body)
    (a0, _), (b0, b1) = fleet.plates[fleet.carriers[0]], fleet.plates[fleet.carriers[1]]
    t = ms("2026-11-10T01:00:00")  # 09:00 local
    track = [row(a0, t + i * MINUTE, i * 1000) for i in range(10)]
    track.append(row(a0, t + 19 * MINUTE, 10_000))  # 10 min after the one before: the track breaks
    track += [row(a0, t + (20 + i) * MINUTE, 11_000 + i * 1000, speed=170.0 if i == 1 else 40.0) for i in range(2)]
    track += [row(b0, t, 0), row(b0, t + MINUTE, 6_000), row(b0, t + 2 * MINUTE, 6_500)]
    track.append(row(b1, ms("2026-11-09T15:00:00"), 0))  # 23:00 local on the 9th
    violations = [open_violation("speeding", a0, fleet.carriers[0], t, 29.9, 121.8),
                  close_violation(open_violation("gps_jump", a0, fleet.carriers[0], t + MINUTE, 29.9, 121.8), t + MINUTE),
                  withdraw_violation(open_violation("offline", a0, fleet.carriers[0], t + 2 * MINUTE, 29.9, 121.8), "late"),
                  open_violation("speeding", a0, fleet.carriers[0], ms("2026-11-11T01:00:00"), 29.9, 121.8),
                  open_violation("gps_jump", b0, fleet.carriers[1], t, 29.9, 121.8),
                  open_violation("gps_jump", b0, fleet.carriers[1], t + MINUTE, 29.9, 121.8),
                  open_violation("offline_displacement", b0, fleet.carriers[1], t + 2 * MINUTE, 29.9, 121.8,
                                 severity="high")]  # the kind's own severity is the rules' (another branch)
    await write_batch(pool, "kpi-test", BatchResult(positions=track, violations=[violation_row(v) for v in violations]))
    received = datetime(2026, 11, 10, 2, tzinfo=timezone.utc)
    await pool.executemany(
        "INSERT INTO deadletters (received_at, plate, source, is_fix, error) VALUES ($1, $2, $3, $4, 'bad')",
        [(received, a0, "http/fixes", True), (received, a0, "http/fixes", True), (received, None, "http/fixes", True),
         (received, b0, "http/filling-records", False),
         (datetime(2026, 11, 11, 2, tzinfo=timezone.utc), a0, "http/fixes", True)])
    return api, fleet


def values(report: dict) -> dict:
    out = {name: (f["value"], f["numerator"], f["denominator"]) for name, f in report["figures"].items()}
    out["by_kind"] = {k: (v["value"], v["numerator"]) for k, v in report["figures"]["alarms_per_100km"]["by_kind"].items()}
    return out


async def test_a_carriers_day(day):
    api, fleet = day
    _, a = await api.json("GET", f"/v1/reports/kpis?period=day&date=2026-11-10&carrier_id={fleet.carriers[0]}",
                          api.admin_token, expect=200)
    validate("kpi_report.schema.json", a)
    assert (a["period"], a["date"], a["carrier_id"]) == ("day", "2026-11-10", fleet.carriers[0])
    assert values(a) == {
        "access_rate": (0.5, 1, 2), "online_rate": (1.0, 1, 1),
        "data_qualification_rate": (0.8, 12, 15),  # 13 stored, 1 at 170 km/h; + 2 refused
        "track_completeness": (round(11 / 12, 6), 11.0, 12.0),
        "drift_rate": (1.0, 1, 1), "offline_displacements": (0, 0, None),
        "alarms_per_100km": (round(2 / 12 * 100, 6), 2, 12.0),  # the withdrawn offline does not count
        "handling_rate": (0.0, 0, 2), "median_ack_s": (None, None, 0),  # nobody has acknowledged any yet
        "checkpoint_match_rate": (None, 0, 0),  # no camera read them
        "by_kind": {"gps_jump": (round(100 / 12, 6), 1), "speeding": (round(100 / 12, 6), 1)}}

    _, b = await api.json("GET", f"/v1/reports/kpis?period=day&date=2026-11-10&carrier_id={fleet.carriers[1]}",
                          api.admin_token, expect=200)
    assert values(b) == {
        "access_rate": (1.0, 2, 2), "online_rate": (0.5, 1, 2),  # B1 reported the evening before
        "data_qualification_rate": (1.0, 3, 3),  # the filling record's dead letter is not a fix
        "track_completeness": (round(0.5 / 6.5, 6), 0.5, 6.5),  # 6 km in a minute breaks the track
        "drift_rate": (1.0, 1, 1), "offline_displacements": (1, 1, None),
        "alarms_per_100km": (round(3 / 6.5 * 100, 6), 3, 6.5),
        "handling_rate": (0.0, 0, 3), "median_ack_s": (None, None, 0), "checkpoint_match_rate": (None, 0, 0),
        "by_kind": {"gps_jump": (round(2 / 6.5 * 100, 6), 2), "offline_displacement": (round(100 / 6.5, 6), 1)}}


async def test_the_district_and_the_month(day):
    api, _ = day
    _, d = await api.json("GET", "/v1/reports/kpis?period=day&date=2026-11-10", api.admin_token, expect=200)
    v = values(d)
    assert (v["access_rate"], v["online_rate"]) == ((0.75, 3, 4), (round(2 / 3, 6), 2, 3))
    assert v["data_qualification_rate"] == (round(15 / 19, 6), 15, 19)  # the unknown plate's refusal counts here
    assert v["track_completeness"] == (round(11.5 / 18.5, 6), 11.5, 18.5)
    assert v["drift_rate"] == (1.0, 2, 2)
    assert v["alarms_per_100km"] == (round(5 / 18.5 * 100, 6), 5, 18.5)

    _, m = await api.json("GET", "/v1/reports/kpis?period=month&date=2026-11", api.admin_token, expect=200)
    v = values(m)
    assert v["online_rate"] == (1.0, 3, 3)
    assert v["data_qualification_rate"] == (round(16 / 21, 6), 16, 21)  # B1's fix; A0's refusal of the 11th
    assert v["alarms_per_100km"][1] == 6 and v["by_kind"]["speeding"][1] == 2
    _, other = await api.json("GET", "/v1/reports/kpis?period=day&date=2026-11-12", api.admin_token, expect=200)
    assert values(other)["online_rate"] == (0.0, 0, 3) and values(other)["track_completeness"][0] is None


async def test_csv_has_chinese_headers_and_the_same_figures(day):
    api, fleet = day
    path = f"/v1/reports/kpis?period=day&date=2026-11-10&carrier_id={fleet.carriers[1]}"
    _, as_json = await api.json("GET", path, api.admin_token, expect=200)
    response = await api.call("GET", path, api.admin_token, headers={"Accept": "text/csv"})
    assert response.status == 200 and response.content_type == "text/csv"
    text = await response.text()
    assert "入网率" in text.splitlines()[1] and text.splitlines()[0].lstrip("\ufeff").startswith("周期,日期,承运企业")
    assert from_csv(text) == as_json


async def test_roles_and_bad_queries(day):
    api, fleet = day
    agency = await api.token("agency", agency="transport")
    await api.json("GET", "/v1/reports/kpis?period=month&date=2026-11", agency, expect=200)
    gateway = await api.token("gateway", carrier_id=fleet.carriers[0])
    await api.json("GET", "/v1/reports/kpis?period=month&date=2026-11", gateway, expect=403)
    await api.json("GET", "/v1/reports/kpis?period=month&date=2026-11", None, expect=401)
    for query in ("period=week&date=2026-11", "period=day&date=2026-11", "period=month&date=2026-11-10",
                  "period=day&date=2026-02-30", "date=2026-11", "period=month", "period=month&date=2026-11&x=1"):
        status, problem = await api.json("GET", f"/v1/reports/kpis?{query}", api.admin_token)
        assert status == 400, (query, problem)
    await api.json("GET", "/v1/reports/kpis?period=month&date=2026-11&carrier_id=NOPE", api.admin_token, expect=404)


async def test_handling_rate_and_median_ack_from_violation_handling(day):
    """Acknowledged (90 s and 30 s after they began) and resolved violations, as
    POST /v1/violations/{id}/ack and /resolve record them; the withdrawn one never counts."""
    api, fleet = day
    pool = api.client.app[POOL]
    (a0, _), (b0, _) = fleet.plates[fleet.carriers[0]], fleet.plates[fleet.carriers[1]]
    await pool.execute("""INSERT INTO violation_handling (violation_id, state, acked_by, acked_at)
                          SELECT violation_id, 'acked', 'op', started_at + interval '90 seconds' FROM violations
                          WHERE plate = $1 AND kind = 'speeding' AND started_at < '2026-11-10T16:00:00Z'""", a0)
    await pool.execute("""INSERT INTO violation_handling (violation_id, state, acked_by, acked_at, resolved_by,
                                                          resolved_at, disposition)
                          SELECT violation_id, 'resolved', 'op', started_at + interval '30 seconds', 'op',
                                 started_at + interval '1 hour', 'handled' FROM violations
                          WHERE plate = $1 AND kind = 'gps_jump'""", b0)
    _, a = await api.json("GET", f"/v1/reports/kpis?period=day&date=2026-11-10&carrier_id={fleet.carriers[0]}",
                          api.admin_token, expect=200)
    validate("kpi_report.schema.json", a)
    v = values(a)
    assert v["handling_rate"] == (0.5, 1, 2) and v["median_ack_s"] == (90.0, None, 1)
    _, d = await api.json("GET", "/v1/reports/kpis?period=day&date=2026-11-10", api.admin_token, expect=200)
    v = values(d)
    assert v["handling_rate"] == (0.6, 3, 5) and v["median_ack_s"] == (30.0, None, 3)  # 30, 30, 90
    assert "acknowledged" in d["figures"]["median_ack_s"]["definition"]
