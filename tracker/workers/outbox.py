"""Violation events: rows for the outbox (written with the state that caused them) and
the relay that publishes them to hazmat.violations.v1 and the per-agency topics."""
from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable

import asyncpg
import orjson

from streams.kafka import Publisher
from streams.rules.engine import Event
from streams.rules.violations import CLOSED, OPENED, Violation, cloud_event
from streams.topics import Topics
from tracker.db.outbox import insert_outbox, lock_pending, mark_published
from tracker.db.violations import upsert_violations, violation_row
from tracker.metrics import VIOLATION_EVENTS

RELAY_LIMIT = 5000  # outbox rows published per relay transaction

log = logging.getLogger(__name__)


def rows(topics: Topics, events: list[Event]) -> list[tuple[str, str | None, str, bytes]]:
    out = []
    for event_type, violation in events:
        VIOLATION_EVENTS.labels(violation.kind, event_type.rsplit(".", 1)[1]).inc()
        event = cloud_event(event_type, violation)
        value, eid = orjson.dumps(event), event["id"]
        out.append((topics.violations, violation.plate, eid, value))
        out += [(topics.agency(agency), violation.plate, eid, value) for agency in violation.agencies]
    return out


async def save_decided(conn: asyncpg.Connection, topics: Topics, violations: list[Violation]) -> None:
    """Violations decided whole (opened and closed at once, like gps_jump): stored, and an
    opened and a closed event with the same violation id put in the outbox, in the
    caller's transaction."""
    await upsert_violations(conn, [violation_row(v) for v in violations])
    events = [e for v in violations for e in ((OPENED, v.reopened()), (CLOSED, v))]
    await insert_outbox(conn, rows(topics, events))


async def relay(pool: asyncpg.Pool, publisher: Publisher, limit: int = RELAY_LIMIT) -> int:
    """Publish pending rows, then mark them, under row locks that other relays skip.

    A crash between publishing and marking republishes the same event ids, which
    consumers drop; two workers never publish the same row at the same time.
    """
    async with pool.acquire() as conn, conn.transaction():
        pending = await lock_pending(conn, limit)
        if not pending:
            return 0
        by_topic: dict[str, list] = {}
        for row in pending:
            by_topic.setdefault(row["topic"], []).append((row["key"].encode() if row["key"] else None, row["value"]))
        # All topics at once (each publish waits for its acknowledgements); every publish
        # ends before a failure is raised, so none goes on unobserved.
        outcomes = await asyncio.gather(*(publisher.publish(topic, messages) for topic, messages in by_topic.items()),
                                        return_exceptions=True)
        for outcome in outcomes:
            if isinstance(outcome, BaseException):
                raise outcome
        await mark_published(conn, [r["id"] for r in pending])
        return len(pending)


class Relayer:
    """Relays whenever woken, one relay at a time, until stopped. Run on the worker's
    writer thread, so that neither the worker's loop nor its next transaction waits for
    the broker's acknowledgements; `wake` and `stop` are called on that same loop."""

    def __init__(self, publisher: Publisher, is_outage: Callable[[BaseException], bool]) -> None:
        self.publisher, self.is_outage = publisher, is_outage
        self._wake = asyncio.Event()
        self._stopping = False

    def wake(self) -> None:
        self._wake.set()

    def stop(self) -> None:
        self._stopping = True
        self._wake.set()

    async def run(self, pool: asyncpg.Pool) -> None:
        """Every wake-up relays what is pending; the last runs after `stop`."""
        while True:
            await self._wake.wait()
            self._wake.clear()
            try:
                while await relay(pool, self.publisher, RELAY_LIMIT) == RELAY_LIMIT:
                    pass  # a full page: more may be pending (rows committed later wake it again)
            except Exception as exc:  # noqa: BLE001 - committed all the same; the idle relay sends them later
                (log.warning if self.is_outage(exc) else log.error)("outbox relay failed: %r", exc)
            if self._stopping:
                await self.publisher.close()
                return
