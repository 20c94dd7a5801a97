"""Every endpoint against every role, no token and a bad token (docs/api.md "Auth and roles")."""
from __future__ import annotations

import pytest

from tests.client import fleet_body

pytestmark = pytest.mark.integration

ROLES = ("admin", "operator", "gateway", "station", "agency", "camera")

# (method, path, roles allowed). Bodies are irrelevant to the check: a request that gets
# past authorisation answers something other than 401/403 (usually 4xx for the empty body).
ENDPOINTS = [
    ("POST", "/v1/tokens", {"admin"}),
    ("PUT", "/v1/registry", {"admin"}),
    ("PUT", "/v1/geofences/g1", {"admin", "operator"}),
    ("DELETE", "/v1/geofences/g1", {"admin", "operator"}),
    ("GET", "/v1/geofences", {"admin", "operator", "agency"}),
    ("POST", "/v1/waybills", {"admin", "gateway"}),
    ("POST", "/v1/fixes", {"gateway"}),
    ("POST", "/v1/filling-records", {"admin", "station"}),
    ("GET", "/v1/vehicles", {"admin", "operator"}),
    ("GET", "/v1/vehicles/P1", {"admin", "operator"}),
    ("GET", "/v1/vehicles/P1/track", {"admin", "operator"}),
    ("GET", "/v1/terminals", {"admin", "operator"}),
    ("PUT", "/v1/platforms/p1", {"admin"}),
    ("GET", "/v1/platforms", {"admin", "operator"}),
    ("GET", "/v1/violations", {"admin", "operator", "agency"}),
    ("GET", "/v1/violations/v-x", {"admin", "operator", "agency"}),
    ("POST", "/v1/violations/v-x/ack", {"admin", "operator"}),  # agencies read handling, never change it
    ("POST", "/v1/violations/v-x/resolve", {"admin", "operator"}),
    ("GET", "/v1/live", {"admin", "operator"}),  # allowed: 400 without the WebSocket upgrade
    ("GET", "/v1/vehicles/P1/trips?date=2026-11-10", {"admin", "operator"}),
    ("GET", "/v1/vehicles/P1/stops?date=2026-11-10", {"admin", "operator"}),
    ("GET", "/v1/reports/kpis?period=day&date=2026-11-10", {"admin", "operator", "agency"}),
    ("PUT", "/v1/sites/s1", {"admin", "operator"}),
    ("DELETE", "/v1/sites/s1", {"admin", "operator"}),
    ("GET", "/v1/sites", {"admin", "operator", "agency"}),
    ("GET", "/v1/hazards/1017", {"admin", "operator", "agency"}),
    ("PUT", "/v1/hazards/1017", {"admin"}),
    ("POST", "/v1/incidents", {"admin", "operator"}),  # and an `emergency` agency (the matrix's agency is police)
    ("GET", "/v1/incidents", {"admin", "operator", "agency"}),
    ("GET", "/v1/incidents/i-x", {"admin", "operator", "agency"}),
    ("PATCH", "/v1/incidents/i-x", {"admin", "operator"}),
    ("PUT", "/v1/checkpoints/K1", {"admin", "operator"}),
    ("GET", "/v1/checkpoints", {"admin", "operator", "agency"}),
    ("POST", "/v1/plate-reads", {"admin", "camera"}),
    ("GET", "/v1/vehicles/P1/reads", {"admin", "operator"}),
    ("POST", "/v1/terminals/13900000000/messages", {"admin", "operator"}),
    ("GET", "/v1/terminals/13900000000/messages", {"admin", "operator"}),
]


CHECKPOINT = {"type": "Feature", "geometry": {"type": "Point", "coordinates": [121.8, 29.9]},
              "properties": {"name": "gate"}}


@pytest.fixture
async def role_tokens(api):
    fleet, body = fleet_body()
    await api.json("PUT", "/v1/registry", api.admin_token, expect=200, json=body)
    tokens = {"admin": api.admin_token}
    tokens["operator"] = await api.token("operator")
    tokens["gateway"] = await api.token("gateway", carrier_id=fleet.carriers[0])
    tokens["station"] = await api.token("station", station_id="S1")
    tokens["agency"] = await api.token("agency", agency="police")
    await api.json("PUT", "/v1/checkpoints/K1", api.admin_token, expect=201, json=CHECKPOINT)
    tokens["camera"] = await api.token("camera", checkpoint_id="K1")
    return tokens


async def test_auth_matrix(api, role_tokens):
    failures = []
    for method, path, allowed in ENDPOINTS:
        for label, token in [("none", None), ("bad", "not-a-token")] + list(role_tokens.items()):
            response = await api.call(method, path, token, data=b"", headers={"Content-Type": "application/json"})
            expected = 401 if label in ("none", "bad") else (None if label in allowed else 403)
            got = response.status
            if (expected is None and got in (401, 403)) or (expected is not None and got != expected):
                failures.append(f"{method} {path} as {label}: {got}, expected {expected or 'not 401/403'}")
            if got in (401, 403):
                assert response.headers["Content-Type"].startswith("application/problem+json")
            if got == 401:
                assert response.headers["WWW-Authenticate"] == "Bearer"
    assert not failures, "\n".join(failures)


@pytest.mark.parametrize("path, content_type", [("/healthz", "application/json"), ("/metrics", "text/plain"),
                                                ("/", "text/html")])  # the map page asks for a token itself
async def test_probes_and_the_map_page_need_no_token(api, path, content_type):
    response = await api.call("GET", path)
    assert response.status == 200 and response.headers["Content-Type"].startswith(content_type)


async def test_ready_when_database_and_broker_answer(api):
    status, body = await api.json("GET", "/readyz")
    assert (status, body) == (200, {"status": "ready", "database": True, "broker": True})


async def test_metrics_count_intake_outcomes(api):
    text = await (await api.call("GET", "/metrics")).text()
    assert "hazmat_http_request_seconds_bucket" in text
    assert 'route="/v1/registry"' in text


async def test_query_token_is_not_accepted_outside_the_live_socket(api):
    response = await api.call("GET", f"/v1/geofences?access_token={api.admin_token}")
    assert response.status == 401
