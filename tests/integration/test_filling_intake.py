"""POST /v1/filling-records intake (the cross-check is its own issue)."""
from __future__ import annotations

import time

import pytest

from tests.client import fleet_body
from tests.contracts import validate
from tests.topic import read_topic

pytestmark = pytest.mark.integration


def an_hour_ago_ms() -> int:
    """Whole seconds, an hour before now: the intake takes records up to 7 days old."""
    return (int(time.time()) - 3600) * 1000


def record(plate: str, filled_at_ms: int | None = None, **over) -> dict:
    local = time.gmtime((filled_at_ms or an_hour_ago_ms()) / 1000 + 8 * 3600)
    item = {"id": "F-1", "station_id": "S1", "plate": plate, "driver_id": "D1", "un_number": "1203",
            "hazard_class": "3", "quantity_kg": 18000, "filled_at": time.strftime("%Y-%m-%dT%H:%M:%S+08:00", local)}
    item.update(over)
    return item


async def test_station_posts_own_records_single_or_array(api, settings, topics):
    fleet, body = fleet_body()
    await api.json("PUT", "/v1/registry", api.admin_token, expect=200, json=body)
    plate = fleet.plates[fleet.carriers[0]][0]
    station = await api.token("station", station_id="S1")
    filled_at = an_hour_ago_ms()
    status, answer = await api.json("POST", "/v1/filling-records", station, json=record(plate, filled_at))
    assert (status, answer) == (202, {"accepted": 1, "rejected": []})
    batch = [record(plate, id="F-2"), record(plate, id="F-3", station_id="S2"), record(plate, id="F-4", quantity_kg=0),
             record("浙Z00001", id="F-5")]
    status, answer = await api.json("POST", "/v1/filling-records", station, json=batch)
    assert status == 202
    validate("intake_result.schema.json", answer)
    assert answer["accepted"] == 2
    assert [(r["index"], "another station" in r["error"]) for r in answer["rejected"]][0] == (1, True)
    assert answer["rejected"][1]["index"] == 2
    published = await read_topic(settings.kafka_bootstrap, topics.filling, 3)
    by_id = {v["id"]: (k, v) for k, v in published}
    assert set(by_id) == {"F-1", "F-2", "F-5"}
    key, value = by_id["F-1"]
    assert key == plate
    for _, published_value in published:
        validate("normalised_filling_record.schema.json", published_value)
    assert value["filled_at"] == filled_at and isinstance(value["received_at"], int)
    dead = await read_topic(settings.kafka_bootstrap, topics.deadletter, 2)
    assert sorted(r["input"]["id"] for _, r in dead) == ["F-3", "F-4"]
    assert all(r["source"] == "http/filling-records" for _, r in dead)
