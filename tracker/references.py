"""Geofences and waybills as a running worker sees them, kept current from PostGIS.

Changes made through the API reach workers within REFRESH_S; a changed geofence
re-covers only itself in the index.
"""
from __future__ import annotations

from datetime import datetime

import asyncpg
import orjson

from geofence.index import GeofenceIndex
from geofence.model import Geofence, compile_geofence
from streams.rules.waybills import ActiveWaybill, active
from tracker.db import store

REFRESH_S = 2.0


class References:
    def __init__(self) -> None:
        self.index = GeofenceIndex()
        self.waybills: dict[str, dict[str, ActiveWaybill]] = {}
        self._geofences_seen: datetime | None = None
        self._waybills_seen: datetime | None = None

    def waybill_at(self, plate: str, ts: int) -> ActiveWaybill | None:
        waybills = self.waybills.get(plate)
        return active(list(waybills.values()), ts) if waybills else None

    def station(self, station_id: str) -> Geofence | None:
        return next((g for g in self.index.geofences.values()
                     if g.kind == "filling_station" and g.station_id == station_id), None)

    async def refresh(self, pool: asyncpg.Pool) -> None:
        for row in await store.changed_geofences(pool, self._geofences_seen):
            if row["deleted_at"] is not None or not row["active"]:
                self.index.remove(row["id"])
            else:
                props = dict(row["properties"], kind=row["kind"], name=row["name"])
                self.index.put(compile_geofence(row["id"], row["version"], orjson.loads(row["geometry"]), props))
            self._geofences_seen = row["updated_at"]
        for updated_at, waybill in await store.changed_waybills(pool, self._waybills_seen):
            for plate_waybills in self.waybills.values():
                plate_waybills.pop(waybill.id, None)
            self.waybills.setdefault(waybill.plate, {})[waybill.id] = waybill
            self._waybills_seen = updated_at
