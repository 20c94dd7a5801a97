"""Alarm handling (docs/api.md "Alarm handling"): ack and resolve with their history, the
handling filter, roles, and the CloudEvents on the violation topics (real PostGIS, real
broker, published by the outbox relay after commit)."""
from __future__ import annotations

import uuid

import pytest

from streams.kafka import Publisher
from streams.rules.violations import open_violation
from tests.client import Api, ApiTestServer
from tests.contracts import validate
from tests.topic import read_topic
from tracker.api.app import create_app
from tracker.api.context import POOL
from tracker.auth import ADMIN, insert_token, new_token
from tracker.db.violations import upsert_violations, violation_row
from tracker.serve import create_topics
from tracker.workers.outbox import relay

pytestmark = pytest.mark.integration
T0 = 1_795_800_000_000


async def store(api):
    """Three open violations of one plate: two routed to the police, one (high) also to emergency."""
    plate = f"浙H{uuid.uuid4().hex[:5].upper()}"
    violations = [open_violation(kind, plate, "C1", T0 + i * 60_000, 29.9, 121.8)
                  for i, kind in enumerate(["speeding", "no_stopping", "illegal_parking"])]
    async with api.client.app[POOL].acquire() as conn:
        await upsert_violations(conn, [violation_row(v) for v in violations])
    return plate, [v.wire() for v in violations]  # as the API answers them


@pytest.fixture
async def stored(api):
    return await store(api)


def ids(page: dict) -> list[str]:
    return [v["violation_id"] for v in page["items"]]


async def test_ack_then_resolve_records_who_what_when(api, stored):
    plate, (speeding, no_stopping, parking) = stored
    operator = await api.token("operator")  # labelled "test operator"
    vid = speeding["violation_id"]
    _, fresh = await api.json("GET", f"/v1/violations/{vid}", operator, expect=200)
    validate("violation.schema.json", fresh)
    assert fresh["handling"] == {"state": "new", "acked_by": None, "acked_at": None, "resolved_by": None,
                                 "resolved_at": None, "disposition": None, "notes": []}

    _, acked = await api.json("POST", f"/v1/violations/{vid}/ack", operator, expect=200, json={"note": "看到了"})
    validate("violation.schema.json", acked)
    h = acked["handling"]
    assert (h["state"], h["acked_by"], h["resolved_by"]) == ("acked", "test operator", None)
    assert h["notes"] == [{"by": "test operator", "at": h["acked_at"], "text": "看到了"}]

    _, again = await api.json("POST", f"/v1/violations/{vid}/ack", api.admin_token, expect=200,
                              json={"note": "已电话联系司机"})
    assert again["handling"]["acked_at"] == h["acked_at"] and again["handling"]["acked_by"] == "test operator"
    assert [(n["by"], n["text"]) for n in again["handling"]["notes"]] == [
        ("test operator", "看到了"), ("test admin", "已电话联系司机")]

    _, resolved = await api.json("POST", f"/v1/violations/{vid}/resolve", operator, expect=200,
                                 json={"disposition": "handled", "note": "已驶离"})
    h = resolved["handling"]
    assert (h["state"], h["disposition"], h["resolved_by"]) == ("resolved", "handled", "test operator")
    assert h["resolved_at"] >= h["acked_at"] and len(h["notes"]) == 3
    status, problem = await api.json("POST", f"/v1/violations/{vid}/resolve", operator,
                                     json={"disposition": "false_alarm"})
    assert status == 409 and problem["status"] == 409
    _, after = await api.json("GET", f"/v1/violations/{vid}", operator, expect=200)
    assert after["handling"]["disposition"] == "handled"  # the first resolution stands

    # A resolution of a new violation acknowledges it on the way; an empty ack body is {}.
    _, direct = await api.json("POST", f"/v1/violations/{no_stopping['violation_id']}/resolve", operator,
                               expect=200, json={"disposition": "false_alarm"})
    assert direct["handling"]["acked_by"] == "test operator" and direct["handling"]["notes"] == []
    response = await api.call("POST", f"/v1/violations/{parking['violation_id']}/ack", operator)
    assert response.status == 200

    for state, expected in [("resolved", [no_stopping, speeding]), ("acked", [parking]), ("new", [])]:
        _, page = await api.json("GET", f"/v1/violations?plate={plate}&handling={state}", operator, expect=200)
        assert ids(page) == [v["violation_id"] for v in expected], state


async def test_agencies_read_handling_but_cannot_change_it(api, stored):
    plate, (speeding, *_) = stored
    police = await api.token("agency", agency="police")
    vid = speeding["violation_id"]
    await api.json("POST", f"/v1/violations/{vid}/ack", api.admin_token, expect=200, json={"note": "n"})
    _, seen = await api.json("GET", f"/v1/violations/{vid}", police, expect=200)
    assert seen["handling"]["state"] == "acked"
    _, page = await api.json("GET", f"/v1/violations?plate={plate}&handling=acked", police, expect=200)
    assert ids(page) == [vid]
    for action, body in [("ack", {}), ("resolve", {"disposition": "confirmed"})]:
        status, problem = await api.json("POST", f"/v1/violations/{vid}/{action}", police, json=body)
        assert status == 403, problem
    _, still = await api.json("GET", f"/v1/violations/{vid}", police, expect=200)
    assert still["handling"]["state"] == "acked" and len(still["handling"]["notes"]) == 1


@pytest.mark.parametrize("action, body, status", [
    ("resolve", {}, 422), ("resolve", {"disposition": "fixed"}, 422), ("ack", {"note": ""}, 422),
    ("ack", {"note": "x", "extra": 1}, 422), ("ack", {"note": "a\x00b"}, 422), ("resolve", [], 400),
])
async def test_bad_bodies_are_refused(api, stored, action, body, status):
    _, (speeding, *_) = stored
    got, problem = await api.json("POST", f"/v1/violations/{speeding['violation_id']}/{action}", api.admin_token,
                                  json=body)
    assert got == status, problem
    _, after = await api.json("GET", f"/v1/violations/{speeding['violation_id']}", api.admin_token, expect=200)
    assert after["handling"]["state"] == "new"


async def test_unknown_violation_is_404(api):
    for action, body in [("ack", {}), ("resolve", {"disposition": "handled"})]:
        status, _ = await api.json("POST", f"/v1/violations/v-nothing/{action}", api.admin_token, json=body)
        assert status == 404


@pytest.fixture
async def api_alone(aiohttp_client, database_alone, settings):
    """An API on a database of its own: the relay publishes every pending outbox row, and
    the session's database holds other tests' rows for topics that no longer exist."""
    client = await aiohttp_client(ApiTestServer(create_app(settings.with_(database_url=database_alone))))
    token = new_token()
    await insert_token(client.app[POOL], token, ADMIN, "test admin")
    return Api(client, token)


async def test_handling_is_announced_on_the_violation_topics(api_alone, settings, topics):
    api = api_alone
    plate, (speeding, no_stopping, _) = await store(api)
    await create_topics(settings)
    operator = await api.token("operator")
    await api.json("POST", f"/v1/violations/{speeding['violation_id']}/ack", operator, expect=200)
    await api.json("POST", f"/v1/violations/{speeding['violation_id']}/ack", operator, expect=200,
                   json={"note": "a second ack: a note, no event"})
    _, resolved = await api.json("POST", f"/v1/violations/{no_stopping['violation_id']}/resolve", operator,
                                 expect=200, json={"disposition": "confirmed", "note": "现场确认"})
    publisher = Publisher(settings.kafka_bootstrap)
    try:
        assert await relay(api.client.app[POOL], publisher) >= 2 + 3  # each to the main topic and its agencies'
    finally:
        await publisher.close()

    mine = lambda e: e["subject"] == plate  # noqa: E731
    main = await read_topic(settings.kafka_bootstrap, topics.violations, 2, wanted=mine)
    for key, event in main:
        validate("violation_event.schema.json", event)
        assert key == plate and event["source"] == "hazmat/handling"
    by_type = {e["type"]: e for _, e in main}
    acked = by_type["hazmat.violation.acknowledged"]
    assert acked["id"] == f"{speeding['violation_id']}.acknowledged"
    assert acked["time"] == acked["data"]["handling"]["acked_at"] and acked["data"]["handling"]["state"] == "acked"
    done = by_type["hazmat.violation.resolved"]
    assert done["id"] == f"{no_stopping['violation_id']}.resolved" and done["data"] == resolved
    assert done["time"] == resolved["handling"]["resolved_at"]
    # Routed like the violation: both to the police; the high-severity one also to emergency.
    police = await read_topic(settings.kafka_bootstrap, topics.agency("police"), 2, wanted=mine)
    assert {e["id"] for _, e in police} == {acked["id"], done["id"]}
    emergency = await read_topic(settings.kafka_bootstrap, topics.agency("emergency"), 1, wanted=mine)
    assert [e["id"] for _, e in emergency] == [done["id"]]
