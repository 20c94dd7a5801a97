"""Refused fixes reach the deadletters table through the dead-letter group."""
from __future__ import annotations

import time

import pytest

from tests.members import member_running
from tracker.workers.deadletters import DeadletterStore
from tests.waiting import until

pytestmark = pytest.mark.integration


async def test_refused_fixes_are_stored_with_their_plate_and_reason(api, fleet, settings):
    async with member_running(DeadletterStore, settings) as store:
        pool = store.pool
        gateway = await api.token("gateway", carrier_id=fleet.carriers[0])
        plate = fleet.plates[fleet.carriers[0]][1]
        now = int(time.time() * 1000)
        bad = [{"plate": plate, "ts": now, "lat": 0, "lon": 0, "speed_kmh": 1, "heading_deg": 1},
               {"plate": plate, "ts": now, "lat": 29.9, "lon": 121.8, "speed_kmh": 300, "heading_deg": 1}]
        await api.json("POST", "/v1/fixes", gateway, expect=202, json=bad)

        async def both():
            rows = await pool.fetch("SELECT plate, source, is_fix, error, input FROM deadletters WHERE plate = $1", plate)
            return rows if len(rows) == 2 else None

        rows = await until(both, what="both dead letters stored")
        assert all(r["is_fix"] and r["source"] == "http/fixes" for r in rows)
        assert {r["input"]["speed_kmh"] for r in rows} == {1, 300}
