"""GET /v1/violations: filters, newest-first keyset pages, agency routing, parameter errors."""
from __future__ import annotations

import uuid

import pytest

from geofence.gcj02 import wgs84_to_gcj02
from streams.rules.violations import close_violation, open_violation
from streams.times import rfc3339
from tests.contracts import validate
from tracker.api.context import POOL
from tracker.db.violations import upsert_violations, violation_row

pytestmark = pytest.mark.integration
HOUR = 3600_000
T0 = 1_795_800_000_000


@pytest.fixture
async def stored(api):
    """Seven violations of one plate, an hour apart, of kinds routed to different agencies."""
    plate = f"浙Q{uuid.uuid4().hex[:5].upper()}"
    kinds = ["speeding", "offline", "speeding", "filling_overload", "no_stopping", "speeding", "gps_jump"]
    violations = []
    for i, kind in enumerate(kinds):
        v = open_violation(kind, plate, "C1", T0 + i * HOUR, 29.9 + i * 0.01, 121.8)
        violations.append(close_violation(v, T0 + i * HOUR + 60_000) if i % 2 else v)
    async with api.client.app[POOL].acquire() as conn:
        await upsert_violations(conn, [violation_row(v) for v in violations])
    return plate, [v.wire() for v in violations]  # as the API answers them


async def test_filters_and_pages(api, stored):
    plate, violations = stored
    newest_first = [v["violation_id"] for v in reversed(violations)]
    seen, cursor = [], None
    while True:
        query = f"/v1/violations?plate={plate}&limit=3" + (f"&cursor={cursor}" if cursor else "")
        _, page = await api.json("GET", query, api.admin_token, expect=200)
        for item in page["items"]:
            validate("violation.schema.json", item)
        seen += [v["violation_id"] for v in page["items"]]
        cursor = page["next"]
        if cursor is None:
            break
    assert seen == newest_first
    _, page = await api.json("GET", f"/v1/violations?plate={plate}&kind=speeding&status=open", api.admin_token,
                             expect=200)
    assert [v["violation_id"] for v in page["items"]] == [violations[i]["violation_id"] for i in (2, 0)]
    # mixed time formats, [since, until): the third and fourth violations
    since, until = rfc3339(T0 + 2 * HOUR).replace(".000Z", "Z"), T0 + 4 * HOUR
    _, page = await api.json("GET", f"/v1/violations?plate={plate}&since={since}&until={until}", api.admin_token,
                             expect=200)
    assert [v["started_at"] for v in page["items"]] == [v["started_at"] for v in reversed(violations[:4])
                                                         if v["started_at"] >= rfc3339(T0 + 2 * HOUR)]
    assert len(page["items"]) == 2
    _, page = await api.json("GET", f"/v1/violations?plate={plate}&bbox=121.7,29.925,121.9,29.945", api.admin_token,
                             expect=200)
    assert [v["violation_id"] for v in page["items"]] == [violations[4]["violation_id"], violations[3]["violation_id"]]
    _, shifted = await api.json("GET", f"/v1/violations?plate={plate}&bbox=121.7,29.925,121.9,29.945&crs=gcj02",
                                api.admin_token, expect=200)
    lon, lat = wgs84_to_gcj02(121.8, violations[4]["lat"])
    assert (shifted["items"][0]["lon"], shifted["items"][0]["lat"]) == pytest.approx((float(lon), float(lat)), abs=1e-9)


async def test_an_agency_lists_only_what_is_routed_to_it(api, stored):
    plate, violations = stored
    for agency in ("police", "transport", "market", "emergency"):
        token = await api.token("agency", agency=agency)
        _, page = await api.json("GET", f"/v1/violations?plate={plate}", token, expect=200)
        assert {v["violation_id"] for v in page["items"]} == {
            v["violation_id"] for v in violations if agency in v["agencies"]}, agency


@pytest.mark.parametrize("query, field", [
    ("kind=parking", "kind"), ("status=pending", "status"), ("limit=0", "limit"), ("limit=1001", "limit"),
    ("cursor=nonsense", "cursor"), ("since=yesterday", "since"), ("bbox=1,2,3", "bbox"),
])
async def test_bad_parameters_are_400_naming_the_field(api, query, field):
    status, problem = await api.json("GET", f"/v1/violations?{query}", api.admin_token)
    assert status == 400 and problem["errors"][0]["field"] == field
