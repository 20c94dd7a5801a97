"""The reminders member picks what to remind of: opened violations of the configured
kinds, published recently, not withdrawn (the database calls are stubbed)."""
from __future__ import annotations

from contextlib import asynccontextmanager
from dataclasses import dataclass

import orjson

from streams.rules.violations import CLOSED, OPENED, cloud_event, open_violation, withdraw_violation
from streams.times import now_ms
from tracker.settings import Settings
from tracker.workers import reminders
from tracker.workers.loop import Partitions


@dataclass
class Record:
    value: bytes
    timestamp: int
    offset: int
    key: bytes = b"P"


class Conn:
    @asynccontextmanager
    async def transaction(self):
        yield


class Pool:
    @asynccontextmanager
    async def acquire(self):
        yield Conn()


class Publisher:
    def __init__(self) -> None:
        self.sent = []

    async def publish(self, topic, messages) -> None:
        self.sent += messages


async def test_only_recent_openings_of_the_configured_kinds_remind(monkeypatch):
    sent, saved = [], []

    async def remind(conn, items, ttl_s):
        sent.extend(items)

    async def save_offsets(conn, group, offsets):
        saved.append(offsets)

    monkeypatch.setattr(reminders.messages, "remind", remind)
    monkeypatch.setattr(reminders, "save_offsets", save_offsets)
    now = now_ms()
    speeding = open_violation("speeding", "浙B12345", "C1", now - 60_000, 29.9, 121.8)
    parking = open_violation("illegal_parking", "浙B12345", "C1", now - 60_000, 29.9, 121.8)
    night = open_violation("night_driving", "浙B12345", "C1", now - 60_000, 29.9, 121.8)
    events = [(OPENED, speeding, now), (CLOSED, speeding, now), (OPENED, night, now),
              (OPENED, parking, now - 11 * 60_000), (CLOSED, withdraw_violation(parking, "late fixes"), now)]
    records = {0: [Record(orjson.dumps(cloud_event(t, v)), stamp, n) for n, (t, v, stamp) in enumerate(events)]}
    member = reminders.Reminders(Settings(), Pool(), Publisher())
    await member.handle(records, Partitions(member.topic, 1))
    assert sent == [(speeding.violation_id, "浙B12345", "您已超速，请减速慢行")]
    assert saved == [{(member.topic, 0): 5}]  # every record's offset, reminded or not
