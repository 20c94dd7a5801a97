"""The change feed of geofences and waybills cannot miss a commit (issue 15): two writers
whose transactions would commit out of order are put in order by the change counter's
lock, so a worker reading `change_seq > last seen` in between misses neither."""
from __future__ import annotations

import asyncio
import uuid

import asyncpg
import pytest

from tracker.api.context import POOL
from tracker.workers.references import References

pytestmark = pytest.mark.integration


def square(lon: float, lat: float) -> dict:
    ring = [[lon, lat], [lon + 0.01, lat], [lon + 0.01, lat + 0.01], [lon, lat + 0.01], [lon, lat]]
    return {"type": "Feature", "geometry": {"type": "Polygon", "coordinates": [ring]},
            "properties": {"kind": "parking", "name": "lot"}}


async def test_two_writers_committing_out_of_order_are_both_seen(api, settings):
    pool = api.client.app[POOL]
    first, second = f"first-{uuid.uuid4().hex[:8]}", f"second-{uuid.uuid4().hex[:8]}"
    await api.json("PUT", f"/v1/geofences/{first}", api.admin_token, expect=201, json=square(121.70, 29.90))
    refs = References(max_age_s=0.0)
    await refs.refresh(pool)
    assert first in refs.index.geofences

    slow = await asyncpg.connect(settings.asyncpg_dsn)
    try:
        tx = slow.transaction()
        await tx.start()
        # The slow writer changes `first` and is still open when a quick one writes `second`.
        await slow.execute("UPDATE geofences SET name = 'renamed', version = version + 1 WHERE id = $1", first)
        quick = asyncio.create_task(
            api.json("PUT", f"/v1/geofences/{second}", api.admin_token, expect=201, json=square(121.72, 29.90)))
        await asyncio.sleep(1.0)
        assert not quick.done(), "the quick writer waits for the change counter"
        await refs.refresh(pool)  # a worker reading meanwhile sees neither change yet
        assert refs.index.geofences[first].name == "lot" and second not in refs.index.geofences
        await tx.commit()
        await asyncio.wait_for(quick, 10)
    finally:
        await slow.close()
    seqs = dict(await pool.fetch("SELECT id, change_seq FROM geofences WHERE id = ANY($1::text[])", [first, second]))
    assert seqs[first] < seqs[second], "counter order is commit order"
    await refs.refresh(pool)
    assert refs.index.geofences[first].name == "renamed" and second in refs.index.geofences
