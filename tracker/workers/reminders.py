"""Reminders to drivers, a consumer group of its own on hazmat.violations.v1: when a
violation of a kind in HAZMAT_REMIND_KINDS opens, its vehicle's terminal gets one Chinese
text (streams.reminders), recorded in `terminal_messages` like any message and sent by
the JT/T 808 gateway holding the terminal. At most one a violation: the message row is
unique per violation id, so a redelivered or replayed event adds nothing. Only events
published within HAZMAT_MESSAGE_TTL_S remind (not the topic's history).
"""
from __future__ import annotations

import asyncpg

from streams.kafka import Publisher
from streams.reminders import reminder_text
from streams.rules.violations import OPENED
from streams.times import now_ms
from streams.topics import Topics
from tracker.db import messages
from tracker.db.offsets import save_offsets
from tracker.settings import Settings
from tracker.workers.loop import Handler, Partitions, decode


class Reminders(Handler):
    def __init__(self, settings: Settings, pool: asyncpg.Pool, publisher: Publisher) -> None:
        topics = Topics(settings.topic_prefix)
        super().__init__(settings, pool, publisher, topics, topics.violations, f"{settings.worker_group}-reminders")
        self.kinds = frozenset(settings.remind_kinds)

    def wanted(self, event: dict) -> bool:
        violation = event["data"]
        return (event["type"] == OPENED and violation["kind"] in self.kinds
                and not violation["details"].get("withdrawn"))

    async def handle(self, records: dict[int, list], partitions: Partitions) -> None:
        """Events published longer ago than a text may wait (a new group reading the topic's
        history, a long outage) remind nobody: the driver would hear of the past."""
        cutoff = now_ms() - self.settings.message_ttl_s * 1000
        recent = {p: [r for r in rs if r.timestamp >= cutoff] for p, rs in records.items()}
        events, dead = decode({p: rs for p, rs in recent.items() if rs}, "violation_event.schema.json",
                              "a violation event", self.group, self.topic)
        await self.publisher.publish(self.topics.deadletter, dead)
        reminders = [(e["data"]["violation_id"], e["data"]["plate"], reminder_text(e["data"]["kind"]))
                     for e in events if self.wanted(e)]
        async with self.pool.acquire() as conn, conn.transaction():
            if reminders:
                await messages.remind(conn, reminders, self.settings.message_ttl_s)
            await save_offsets(conn, self.group, partitions.offsets_of(records))
