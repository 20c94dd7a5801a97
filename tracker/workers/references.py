"""Geofences and waybills as a running worker sees them, never older than the contract
allows when a batch is judged.

Every write to either table bumps one counter row in the same transaction (a trigger,
migration 0004), and the row's lock is held until commit, so counter order is commit
order: reading `change_seq > last seen` cannot miss a change that commits late, as
reading `updated_at > last seen` could. The same trigger NOTIFYs, and a listening
connection marks the references stale at once; `ensure_fresh` before every batch is
the safety net for a notification lost with its connection. A geofence's H3 cover is
stored beside it when it is written; only a row without one (written before covers were
stored, or by another writer) is covered here, on a thread (a large area takes a while).

One References serves every member of a process that judges fixes (the fix worker, the
filling check): one index in memory, one listening connection, one read per change;
concurrent callers wait for the read in progress instead of starting another.
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
        self._reading = asyncio.Lock()
        self._preloading: asyncio.Task | None = None

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
        if time.monotonic() - self._read_at < self.max_age_s:
            return
        async with self._reading:
            if time.monotonic() - self._read_at >= self.max_age_s:  # else read meanwhile by another member
                await self._read(pool)

    async def refresh(self, pool: asyncpg.Pool) -> None:
        async with self._reading:
            await self._read(pool)

    async def _read(self, pool: asyncpg.Pool) -> None:
        started = time.monotonic()
        await self._listen()
        rows = await references.changed_geofences(pool, self._geofences_seen)
        if rows:
            for row, prepared in zip(rows, await asyncio.to_thread(_prepared, self.index.resolution, rows)):
                if prepared is None:
                    self.index.remove(row["id"])
                else:
                    self.index.put(*prepared)
            self._geofences_seen = rows[-1]["change_seq"]
        for seq, waybill in await references.changed_waybills(pool, self._waybills_seen):
            for plate_waybills in self.waybills.values():
                plate_waybills.pop(waybill.id, None)
            self.waybills.setdefault(waybill.plate, {})[waybill.id] = waybill
            self._waybills_seen = seq
        self._read_at = started  # what committed after `started` is read next time

    def preload(self, pool: asyncpg.Pool) -> None:
        """Start the first read now, while the members join their groups; a failure is
        logged and the first batch reads again."""
        async def read() -> None:
            try:
                await self.refresh(pool)
            except Exception as exc:  # noqa: BLE001 - ensure_fresh before the first batch retries
                log.warning("references not loaded yet, retried before the first batch: %r", exc)

        self._preloading = asyncio.create_task(read())

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
        if self._preloading is not None:
            self._preloading.cancel()
            await asyncio.gather(self._preloading, return_exceptions=True)
        if self._listener is not None:
            listener, self._listener = self._listener, None
            await listener.close()


def _prepared(resolution: int, rows: list) -> list[tuple[Geofence, tuple[set[int], set[int]]] | None]:
    """Each changed row's compiled geofence and its H3 cover (the stored one when it is at
    the index's resolution), or None for a deleted or inactive one; off the event loop."""
    out = []
    for row in rows:
        if row["deleted_at"] is not None or not row["active"]:
            out.append(None)
            continue
        properties = dict(row["properties"], kind=row["kind"], name=row["name"])
        geofence = compile_geofence(row["id"], row["version"], orjson.loads(row["geometry"]), properties)
        if row["cover_resolution"] == resolution:
            cells = (set(row["cover_interior"]), set(row["cover_boundary"]))
        else:
            cells = cover(geofence.area, resolution)
        out.append((geofence, cells))
    return out
