"""The dead-letter store, a consumer group of its own on hazmat.deadletter.v1: every refused
item is kept in PostGIS (`deadletters`), with the offsets in the same transaction, so the
data qualification figure can count what was refused beside what was stored.

Whatever it finds on the topic is stored, never dead-lettered again: a record off the
dead-letter schema is kept as text with source "unknown" (a dead letter of a dead letter
would come back here for ever).
"""
from __future__ import annotations

import asyncpg
import orjson

from streams.fix import ItemError, valid_plate
from streams.kafka import Publisher
from streams.times import now_ms
from streams.topics import Topics
from tracker.db.deadletters import insert_deadletters
from tracker.db.offsets import save_offsets
from tracker.settings import Settings
from tracker.workers.loop import Handler, Partitions

FIX_SOURCES = ("http/fixes", "jt808", "jt809")


def _plate(key: bytes | None, item) -> str | None:
    raw = key.decode(errors="replace") if key else None
    if raw is None and isinstance(item, dict) and isinstance(item.get("input"), dict):
        raw = item["input"].get("plate")
    try:
        return valid_plate(raw) if isinstance(raw, str) else None
    except ItemError:
        return None


def deadletter_row(key: bytes | None, value: bytes | None, fixes_topic: str) -> tuple:
    """(received_at ms, plate, source, is_fix, error, input as JSON text) of one record."""
    try:
        item = orjson.loads(value) if value is not None else None
    except orjson.JSONDecodeError:
        item = None
    if not isinstance(item, dict) or not isinstance(item.get("error"), str):
        text = value.decode(errors="replace") if value is not None else None
        return (now_ms(), _plate(key, None), "unknown", False, "not a dead-letter record",
                orjson.dumps(text).replace(b"\\u0000", b""))
    source = str(item.get("source", "unknown"))
    origin = item.get("origin") if isinstance(item.get("origin"), dict) else {}
    is_fix = source.startswith(FIX_SOURCES) or origin.get("topic") == fixes_topic
    received = item.get("received_at")
    received = received if type(received) is int and 0 < received < 4_102_444_800_000 else now_ms()
    return (received, _plate(key, item), source, is_fix, item["error"][:2000],
            orjson.dumps(item.get("input")).replace(b"\\u0000", b""))  # jsonb holds no NUL


class DeadletterStore(Handler):
    def __init__(self, settings: Settings, pool: asyncpg.Pool, publisher: Publisher) -> None:
        topics = Topics(settings.topic_prefix)
        super().__init__(settings, pool, publisher, topics, topics.deadletter, f"{settings.worker_group}-deadletters")

    async def handle(self, records: dict[int, list], partitions: Partitions) -> None:
        rows = [deadletter_row(r.key, r.value, self.topics.fixes) for rs in records.values() for r in rs]
        async with self.pool.acquire() as conn, conn.transaction():
            await insert_deadletters(conn, rows)
            await save_offsets(conn, self.group, partitions.offsets_of(records))
