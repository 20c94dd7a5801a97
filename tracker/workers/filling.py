"""The filling-record cross-check, a consumer group of its own on hazmat.filling.v1.

Registry, waybill and capacity checks are decided when a record arrives. GPS presence is
decided at once when a matching fix is stored, otherwise once the vehicle's track covers
filled_at + 15 min (streams.clock.window_due: its own fixes or its own partition's time,
never the fleet's newest fix), so fixes and records may arrive in any order, a backlog
read unevenly decides nothing early, and a replay decides the same. Records waiting are
kept in PostGIS (`checks.presence = pending`), so a restart or a rebalance loses none.
"""
from __future__ import annotations

import asyncpg

from filling_stations.checks import ABSENT, PENDING, PRESENCE_WINDOW_MS, absent_violation, immediate_checks, presence
from streams.clock import WindowClocks, window_due
from streams.kafka import Publisher
from streams.times import now_ms
from streams.topics import Topics
from tracker.db import filling
from tracker.db.clocks import window_clocks
from tracker.db.offsets import save_offsets
from tracker.settings import Settings
from tracker.workers import outbox
from tracker.workers.loop import Handler, Partitions, decode
from tracker.workers.references import References


class FillingWorker(Handler):
    def __init__(self, settings: Settings, pool: asyncpg.Pool, publisher: Publisher, refs: References) -> None:
        topics = Topics(settings.topic_prefix)
        super().__init__(settings, pool, publisher, topics, topics.filling, f"{settings.worker_group}-filling", refs)

    def _station(self, station_id: str):
        """(area, (lat, lon)) of the station's geofence, or (None, None) when it has none."""
        geofence = self.refs.station(station_id)
        if geofence is None:
            return None, None
        centre = geofence.area.centroid
        return geofence.area, (centre.y, centre.x)

    async def _tracks(self, conn, records: list[dict]) -> dict[str, WindowClocks]:
        """How far each record's vehicle's track has got (the fix workers' clocks)."""
        plates = sorted({r["plate"] for r in records})
        return await window_clocks(conn, self.settings.worker_group, self.topics.fixes, plates) if plates else {}

    def _window_over(self, record: dict, track: WindowClocks) -> bool:
        return window_due(record["filled_at"] + PRESENCE_WINDOW_MS, track, now_ms(), self.tuning.window_wait_ms)

    async def _presence(self, conn, record: dict, checks: dict, carrier_id, track: WindowClocks) -> list[dict]:
        area, centre = self._station(record["station_id"])
        if area is None:
            checks["presence"] = "no_station_geofence"
            return []
        status, details = presence(record, area, await filling.fixes_around(conn, record["plate"], record["filled_at"]),
                                   self._window_over(record, track))
        checks["presence"], checks["presence_details"] = status, details
        if status != ABSENT:
            return []
        return [absent_violation(record, carrier_id, centre, details)]

    async def _check_new(self, conn, record: dict, track: WindowClocks) -> tuple[dict, list[dict]]:
        vehicle = await filling.vehicle(conn, record["plate"])
        people = await filling.people(conn, [p for p in (record.get("driver_id"), record.get("escort_id")) if p])
        _, centre = self._station(record["station_id"])
        violations, checks = immediate_checks(record, vehicle, people, await filling.waybills(conn, record["plate"]),
                                              centre or (0.0, 0.0))
        violations += await self._presence(conn, record, checks, vehicle.carrier_id if vehicle else None, track)
        checks["carrier_id"] = vehicle.carrier_id if vehicle else None
        checks["violations"] = [v.violation_id for v in violations]
        return checks, violations

    async def handle(self, records: dict[int, list], partitions: Partitions) -> None:
        decoded, dead = decode(records, "normalised_filling_record.schema.json",
                               "a filling record as the intake publishes it", self.group, self.topic)
        await self.publisher.publish(self.topics.deadletter, dead)
        async with self.pool.acquire() as conn, conn.transaction():
            new = await filling.insert_new(conn, decoded) if decoded else set()
            tracks = await self._tracks(conn, decoded)
            checks, violations = {}, []
            for record in decoded:
                key = (record["station_id"], record["id"])
                if key in new and key not in checks:
                    checks[key], found = await self._check_new(conn, record, tracks[record["plate"]])
                    violations += found
            await self._save(conn, checks, violations)
            await save_offsets(conn, self.group, partitions.offsets_of(records))

    async def _save(self, conn, checks: dict, violations: list[dict]) -> None:
        await filling.save_checks(conn, checks)
        await outbox.save_decided(conn, self.topics, violations)

    async def periodic(self, fed: set[int], partitions: Partitions) -> None:
        async with self.pool.acquire() as conn, conn.transaction():
            waiting = await filling.pending(conn)
            if waiting:
                tracks = await self._tracks(conn, waiting)
                checks, violations = {}, []
                for record in waiting:
                    current = record.pop("_checks")
                    found = await self._presence(conn, record, current, current.get("carrier_id"),
                                                 tracks[record["plate"]])
                    if current["presence"] != PENDING:
                        current["violations"] = current.get("violations", []) + [v.violation_id for v in found]
                        checks[(record["station_id"], record["id"])] = current
                        violations += found
                await self._save(conn, checks, violations)
        await outbox.relay(self.pool, self.publisher)

