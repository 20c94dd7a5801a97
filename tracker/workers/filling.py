"""The filling-record cross-check, a consumer group of its own on hazmat.filling.v1.

Registry, waybill and capacity checks are decided when a record arrives. GPS presence is
decided at once when a matching fix is stored, otherwise when the fix stream's event
clock has passed filled_at + 15 min, so fixes and records may arrive in any order and a
replay decides the same.
"""
from __future__ import annotations

import asyncpg

from filling_stations.checks import ABSENT, PENDING, absent_violation, immediate_checks, presence
from streams.kafka import Publisher
from streams.rules.violations import CLOSED, OPENED
from streams.topics import Topics
from tracker.db import filling
from tracker.db.offsets import save_offsets
from tracker.db.outbox import insert_outbox
from tracker.db.violations import upsert_violations, violation_row
from tracker.settings import Settings
from tracker.workers import outbox
from tracker.workers.loop import PartitionedLoop


class FillingWorker(PartitionedLoop):
    def __init__(self, settings: Settings, pool: asyncpg.Pool, publisher: Publisher) -> None:
        self.topics = Topics(settings.topic_prefix)
        super().__init__(settings, pool, self.topics.filling, f"{settings.worker_group}-filling", publisher)

    def _station(self, station_id: str):
        """(area, (lat, lon)) of the station's geofence, or (None, None) when it has none."""
        geofence = self.refs.station(station_id)
        if geofence is None:
            return None, None
        centre = geofence.area.centroid
        return geofence.area, (centre.y, centre.x)

    async def _presence(self, conn, record: dict, checks: dict, carrier_id, clock) -> list[dict]:
        area, centre = self._station(record["station_id"])
        if area is None:
            checks["presence"] = "no_station_geofence"
            return []
        status, details = presence(record, area, await filling.fixes_around(conn, record["plate"], record["filled_at"]),
                                   clock)
        checks["presence"], checks["presence_details"] = status, details
        if status != ABSENT:
            return []
        return [absent_violation(record, carrier_id, centre, details)]

    async def _check_new(self, conn, record: dict, clock) -> tuple[dict, list[dict]]:
        vehicle = await filling.vehicle(conn, record["plate"])
        people = await filling.people(conn, [p for p in (record.get("driver_id"), record.get("escort_id")) if p])
        _, centre = self._station(record["station_id"])
        violations, checks = immediate_checks(record, vehicle, people, await filling.waybills(conn, record["plate"]),
                                              centre or (0.0, 0.0))
        violations += await self._presence(conn, record, checks, vehicle.carrier_id if vehicle else None, clock)
        checks["carrier_id"] = vehicle.carrier_id if vehicle else None
        checks["violations"] = [v["violation_id"] for v in violations]
        return checks, violations

    async def handle(self, records: dict[int, list]) -> None:
        decoded, dead = self.decode(records, "normalised_filling_record.schema.json", "a filling record as the intake publishes it")
        await self.publisher.publish(self.topics.deadletter, dead)
        async with self.pool.acquire() as conn, conn.transaction():
            new = await filling.insert_new(conn, decoded) if decoded else set()
            clock = await filling.event_clock(conn)
            checks, violations = {}, []
            for record in decoded:
                key = (record["station_id"], record["id"])
                if key in new and key not in checks:
                    checks[key], found = await self._check_new(conn, record, clock)
                    violations += found
            await self._save(conn, checks, violations)
            await save_offsets(conn, self.group, self.offsets_of(records))

    async def _save(self, conn, checks: dict, violations: list[dict]) -> None:
        await filling.save_checks(conn, checks)
        await upsert_violations(conn, [violation_row(v) for v in violations])
        # Decided whole, like gps_jump: an opened event and a closed one, with the same violation id.
        events = [e for v in violations for e in ((OPENED, dict(v, status="open", ended_at=None)), (CLOSED, v))]
        await insert_outbox(conn, outbox.rows(self.topics, events))

    async def periodic(self, fed: set[int]) -> None:
        async with self.pool.acquire() as conn, conn.transaction():
            waiting = await filling.pending(conn)
            if waiting:
                clock = await filling.event_clock(conn)
                checks, violations = {}, []
                for record in waiting:
                    current = record.pop("_checks")
                    found = await self._presence(conn, record, current, current.get("carrier_id"), clock)
                    if current["presence"] != PENDING:
                        current["violations"] = current.get("violations", []) + [v["violation_id"] for v in found]
                        checks[(record["station_id"], record["id"])] = current
                        violations += found
                await self._save(conn, checks, violations)
        await outbox.relay(self.pool, self.publisher)

