"""Alarm handling (报警处置) as stored: one row a handled violation, and its history.

Every Violation the API answers with carries `handling`, read here beside the violation
in one query; acknowledging or resolving changes it under the violation's row lock and
writes the CloudEvent to the outbox in the same transaction, so it is published (by the
workers' relay) only once committed and never lost.
"""
from __future__ import annotations

import asyncpg
import orjson

from streams.rules.violations import ACKNOWLEDGED, CLOSED, RESOLVED, cloud_event, handling_event
from streams.times import epoch_ms, rfc3339
from streams.topics import Topics
from streams.vocabulary import CLOSED_WHEN_RESOLVED
from tracker.db.outbox import insert_outbox
from tracker.db.violations import COLUMNS, as_violation

HANDLING_STATES = ("new", "acked", "resolved")

# violations v LEFT JOIN violation_handling h USING (violation_id)
SELECT = f"""SELECT {COLUMNS}, coalesce(h.state, 'new') AS h_state, h.acked_by AS h_acked_by,
                    h.acked_at AS h_acked_at, h.resolved_by AS h_resolved_by, h.resolved_at AS h_resolved_at,
                    h.disposition AS h_disposition,
                    CASE WHEN h.violation_id IS NULL THEN NULL ELSE
                      (SELECT jsonb_agg(jsonb_build_array(n.by, floor(extract(epoch FROM n.at) * 1000)::bigint, n.note)
                                        ORDER BY n.id)
                       FROM violation_handling_history n
                       WHERE n.violation_id = v.violation_id AND n.note IS NOT NULL) END AS h_notes
             FROM violations v LEFT JOIN violation_handling h USING (violation_id)"""


def _time(value) -> str | None:
    return rfc3339(epoch_ms(value)) if value is not None else None


def with_handling(row) -> dict:
    """A row of SELECT as the Violation object, `handling` included."""
    out = as_violation({k: v for k, v in row.items() if not k.startswith("h_")})
    notes = row["h_notes"] or []  # the pool decodes jsonb
    out["handling"] = {
        "state": row["h_state"], "acked_by": row["h_acked_by"], "acked_at": _time(row["h_acked_at"]),
        "resolved_by": row["h_resolved_by"], "resolved_at": _time(row["h_resolved_at"]),
        "disposition": row["h_disposition"],
        "notes": [{"by": by, "at": rfc3339(at), "text": text} for by, at, text in notes],
    }
    return out


def new_handling() -> dict:
    """The handling of a violation nobody has acted on."""
    return {"state": "new", "acked_by": None, "acked_at": None, "resolved_by": None, "resolved_at": None,
            "disposition": None, "notes": []}


async def handling_of(pool: asyncpg.Pool, violation_ids: list[str]) -> dict[str, dict]:
    """violation id -> its handling (new for an id not stored), in one query."""
    rows = await pool.fetch(f"{SELECT} WHERE v.violation_id = ANY($1::text[])", violation_ids)
    found = {r["violation_id"]: with_handling(r)["handling"] for r in rows}
    return {vid: found.get(vid) or new_handling() for vid in violation_ids}


async def fetch_violation(conn: asyncpg.Connection | asyncpg.Pool, violation_id: str) -> dict | None:
    row = await conn.fetchrow(f"{SELECT} WHERE v.violation_id = $1", violation_id)
    return with_handling(row) if row is not None else None


async def _close_on_resolution(conn: asyncpg.Connection, topics: Topics, violation_id: str) -> None:
    """An open violation of a kind closed by its resolution (an SOS the office dealt with)
    is closed now, and announced so: a closed event with the id the rules would give it
    (the terminal's next report without the bit repeats that id, which consumers drop)."""
    closed = await conn.fetchval(
        """UPDATE violations SET status = 'closed', ended_at = now(), updated_at = now(),
             details = details || jsonb_build_object('closed_by_resolution', true,
               'duration_s', greatest(0, floor(extract(epoch FROM now() - started_at)))::bigint)
           WHERE violation_id = $1 AND status = 'open' AND kind = ANY($2::text[]) RETURNING true""",
        violation_id, list(CLOSED_WHEN_RESOLVED))
    if closed:
        violation = await fetch_violation(conn, violation_id)
        event = cloud_event(CLOSED, violation)
        value = orjson.dumps(event)
        await insert_outbox(conn, [(topic, violation["plate"], event["id"], value) for topic in
                                   [topics.violations, *(topics.agency(a) for a in violation["agencies"])]])


class AlreadyResolved(Exception):
    """A resolution of a violation resolved before (409): the first one stands."""


async def handle(pool: asyncpg.Pool, topics: Topics, violation_id: str, action: str, by: str, *,
                 note: str | None = None, disposition: str | None = None) -> dict | None:
    """Acknowledge (`ack`) or resolve (`resolve`) a violation as `by`; the Violation after
    it, or None when there is no such violation.

    A second acknowledgement only adds its note (and no event); an acknowledgement of a
    resolved violation too. A resolution acknowledges a new violation on the way.
    """
    async with pool.acquire() as conn, conn.transaction():
        found = await conn.fetchval("SELECT 1 FROM violations WHERE violation_id = $1 FOR UPDATE", violation_id)
        if found is None:
            return None
        state = await conn.fetchval("SELECT state FROM violation_handling WHERE violation_id = $1", violation_id)
        event_type = None
        if action == "ack":
            if state is None:
                await conn.execute(
                    """INSERT INTO violation_handling (violation_id, state, acked_by, acked_at)
                       VALUES ($1, 'acked', $2, now())""", violation_id, by)
                event_type = ACKNOWLEDGED
        else:
            if state == "resolved":
                raise AlreadyResolved(violation_id)
            await conn.execute(
                """INSERT INTO violation_handling (violation_id, state, acked_by, acked_at, resolved_by, resolved_at,
                                                  disposition)
                   VALUES ($1, 'resolved', $2, now(), $2, now(), $3)
                   ON CONFLICT (violation_id) DO UPDATE SET state = 'resolved', resolved_by = $2,
                     resolved_at = now(), disposition = $3, updated_at = now()""", violation_id, by, disposition)
            event_type = RESOLVED
            await _close_on_resolution(conn, topics, violation_id)
        if event_type is not None or note is not None:
            await conn.execute(
                """INSERT INTO violation_handling_history (violation_id, action, by, disposition, note)
                   VALUES ($1, $2, $3, $4, $5)""", violation_id, action, by, disposition, note)
        violation = await fetch_violation(conn, violation_id)
        if event_type is not None:
            event = handling_event(event_type, violation)
            value = orjson.dumps(event)
            await insert_outbox(conn, [(topic, violation["plate"], event["id"], value) for topic in
                                       [topics.violations, *(topics.agency(a) for a in violation["agencies"])]])
        return violation
