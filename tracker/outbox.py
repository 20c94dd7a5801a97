"""Violation events: rows for the outbox (written with the state that caused them) and
the relay that publishes them to hazmat.violations.v1 and the per-agency topics."""
from __future__ import annotations

import asyncpg
import orjson

from streams.kafka import Publisher
from streams.rules.engine import Event
from streams.rules.violations import cloud_event, event_id
from streams.topics import Topics
from tracker.metrics import VIOLATION_EVENTS


def rows(topics: Topics, events: list[Event]) -> list[tuple[str, str | None, str, bytes]]:
    out = []
    for event_type, violation in events:
        VIOLATION_EVENTS.labels(violation["kind"], event_type.rsplit(".", 1)[1]).inc()
        value = orjson.dumps(cloud_event(event_type, violation))
        eid = event_id(violation, event_type)
        out.append((topics.violations, violation["plate"], eid, value))
        out += [(topics.agency(agency), violation["plate"], eid, value) for agency in violation["agencies"]]
    return out


async def relay(pool: asyncpg.Pool, publisher: Publisher, limit: int = 5000) -> int:
    """Publish pending rows, then mark them, under row locks that other relays skip.

    A crash between publishing and marking republishes the same event ids, which
    consumers drop; two workers never publish the same row at the same time.
    """
    async with pool.acquire() as conn, conn.transaction():
        pending = await conn.fetch(
            """SELECT id, topic, key, value FROM outbox WHERE published_at IS NULL
               ORDER BY id LIMIT $1 FOR UPDATE SKIP LOCKED""", limit)
        if not pending:
            return 0
        by_topic: dict[str, list] = {}
        for row in pending:
            by_topic.setdefault(row["topic"], []).append((row["key"].encode() if row["key"] else None, row["value"]))
        for topic, messages in by_topic.items():
            await publisher.publish(topic, messages)
        await conn.execute("UPDATE outbox SET published_at = now() WHERE id = ANY($1::bigint[])",
                           [r["id"] for r in pending])
        return len(pending)
