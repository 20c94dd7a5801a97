"""Geofences and waybills as a running worker sees them, never older than the contract
allows when a batch is judged.

Every write to either table bumps one counter row in the same transaction (a trigger,
migration 0004), and the row's lock is held until commit, so counter order is commit
order: reading `change_seq > last seen` cannot miss a change that commits late, as
reading `updated_at > last seen` could. The same trigger NOTIFYs, and a listening
connection marks the references stale at once; `ensure_fresh` before every batch is
the safety net for a notification lost with its connection. A changed geofence
re-covers only itself in the index, on a thread (a large area's cover takes a while).
"""
from __future__ import annotations

import asyncio
import logging
import time

import asyncpg
import orjson

from geofence.index import GeofenceIndex, cover
from geofence.model import Geofence, compile_geofence
from streams.rules.waybills import ActiveWaybill, active
from tracker.db import references

log = logging.getLogger(__name__)
CHANNEL = references.CHANNEL


class References:
    def __init__(self, max_age_s: float = 1.0, dsn: str | None = None) -> None:
        self.index = GeofenceIndex()
        self.waybills: dict[str, dict[str, ActiveWaybill]] = {}
        self.max_age_s = max_age_s
        self._geofences_seen = 0
        self._waybills_seen = 0
        self._read_at = float("-inf")
        self._dsn = dsn  # for the listening connection (none: periodic reads only)
        self._listener: asyncpg.Connection | None = None

    def waybill_at(self, plate: str, ts: int) -> ActiveWaybill | None:
        waybills = self.waybills.get(plate)
        return active(list(waybills.values()), ts) if waybills else None

    def station(self, station_id: str) -> Geofence | None:
        return next((g for g in self.index.geofences.values()
                     if g.kind == "filling_station" and g.station_id == station_id), None)

    def changed(self, *_) -> None:
        """A change was committed (NOTIFY): the next batch re-reads first."""
        self._read_at = float("-inf")

    async def ensure_fresh(self, pool: asyncpg.Pool) -> None:
        """Re-read what changed unless the last read is recent and nothing was notified."""
        if time.monotonic() - self._read_at >= self.max_age_s:
            await self.refresh(pool)

    async def refresh(self, pool: asyncpg.Pool) -> None:
        started = time.monotonic()
        await self._listen()
        for row in await references.changed_geofences(pool, self._geofences_seen):
            if row["deleted_at"] is not None or not row["active"]:
                self.index.remove(row["id"])
            else:
                props = dict(row["properties"], kind=row["kind"], name=row["name"])
                geofence, cells = await asyncio.to_thread(
                    _prepared, self.index.resolution, row["id"], row["version"], orjson.loads(row["geometry"]), props)
                self.index.put(geofence, cells)
            self._geofences_seen = row["change_seq"]
        for seq, waybill in await references.changed_waybills(pool, self._waybills_seen):
            for plate_waybills in self.waybills.values():
                plate_waybills.pop(waybill.id, None)
            self.waybills.setdefault(waybill.plate, {})[waybill.id] = waybill
            self._waybills_seen = seq
        self._read_at = started  # what committed after `started` is read next time

    async def _listen(self) -> None:
        """A connection of its own that hears every committed change (re-made when lost;
        a change made meanwhile is read by the next refresh all the same)."""
        if self._dsn is None or (self._listener is not None and not self._listener.is_closed()):
            return
        try:
            self._listener = await asyncpg.connect(self._dsn, timeout=5)
            await self._listener.add_listener(CHANNEL, self.changed)
        except (OSError, asyncio.TimeoutError, asyncpg.PostgresError, asyncpg.InterfaceError) as exc:
            log.warning("cannot listen for reference changes, re-reading every %s s: %r", self.max_age_s, exc)
            self._listener = None

    async def close(self) -> None:
        if self._listener is not None:
            listener, self._listener = self._listener, None
            await listener.close()


def _prepared(resolution: int, gid: str, version: int, geometry: dict, properties: dict):
    """The compiled geofence and its H3 cover, computed off the event loop."""
    geofence = compile_geofence(gid, version, geometry, properties)
    return geofence, cover(geofence.area, resolution)
