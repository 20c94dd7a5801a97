"""Texts to terminals (0x8300) in `terminal_messages`: the API and the reminders write
them and NOTIFY CHANNEL; the JT/T 808 gateway holding the terminal sends them and records
the terminal's answer. A message not sent within its time to live is `expired`.

States: queued -> sent -> delivered (0x0001 result 0) | failed (any other result);
queued -> expired. Phones are keys (leading zeros stripped), as in `terminals`.
"""
from __future__ import annotations

import asyncpg

CHANNEL = "hazmat_messages"
COLUMNS = ("id, phone, text, tts, urgent, state, by, violation_id, result, created_at, expires_at, sent_at, "
           "done_at")


async def create(pool: asyncpg.Pool, phone: str, text: str, tts: bool, urgent: bool, by: str, ttl_s: int) -> int:
    """A queued message, announced to the gateways in the same transaction."""
    async with pool.acquire() as conn, conn.transaction():
        message_id = await conn.fetchval(
            """INSERT INTO terminal_messages (phone, text, tts, urgent, state, by, expires_at)
               VALUES ($1, $2, $3, $4, 'queued', $5, now() + make_interval(secs => $6)) RETURNING id""",
            phone, text, tts, urgent, by, float(ttl_s))
        await conn.execute("SELECT pg_notify($1, $2)", CHANNEL, phone)
    return message_id


async def remind(conn, reminders: list[tuple[str, str, str]], ttl_s: int) -> int:
    """(violation_id, plate, text): one message each to the plate's terminal, at most one a
    violation (a redelivered event adds none); plates without a terminal get none."""
    rows = await conn.fetch(
        """INSERT INTO terminal_messages (phone, text, tts, urgent, state, by, violation_id, expires_at)
           SELECT ltrim(v.terminal_phone, '0'), r.text, true, false, 'queued', 'reminder', r.violation_id,
                  now() + make_interval(secs => $4)
           FROM unnest($1::text[], $2::text[], $3::text[]) AS r(violation_id, plate, text)
           JOIN vehicles v ON v.plate = r.plate AND v.terminal_phone IS NOT NULL
           ON CONFLICT (violation_id) DO NOTHING RETURNING phone""",
        [r[0] for r in reminders], [r[1] for r in reminders], [r[2] for r in reminders], float(ttl_s))
    for phone in sorted({r["phone"] for r in rows}):
        await conn.execute("SELECT pg_notify($1, $2)", CHANNEL, phone)
    return len(rows)


async def terminal_connected(pool: asyncpg.Pool, phone: str, idle_s: float) -> bool | None:
    """Is the terminal of `phone` held by a gateway connection and heard within `idle_s`
    (as GET /v1/terminals says)? None when no terminal registered with it and no vehicle
    has it."""
    row = await pool.fetchrow(
        """SELECT (SELECT t.connection_id IS NOT NULL AND t.last_seen_at > now() - make_interval(secs => $2)
                   FROM terminals t WHERE t.phone = $1) AS connected,
                  EXISTS (SELECT 1 FROM vehicles WHERE ltrim(terminal_phone, '0') = $1) AS known""",
        phone, float(idle_s))
    if row["connected"] is None and not row["known"]:
        return None
    return bool(row["connected"])


async def state(pool: asyncpg.Pool, message_id: int) -> str | None:
    return await pool.fetchval("SELECT state FROM terminal_messages WHERE id = $1", message_id)


async def expire(pool: asyncpg.Pool) -> int:
    result = await pool.execute(
        """UPDATE terminal_messages SET state = 'expired', done_at = now()
           WHERE state = 'queued' AND expires_at <= now()""")
    return int(result.split()[-1])


async def listed(pool: asyncpg.Pool, phone: str, limit: int) -> list[asyncpg.Record]:
    return await pool.fetch(f"SELECT {COLUMNS} FROM terminal_messages WHERE phone = $1 ORDER BY id DESC LIMIT $2",
                            phone, limit)


async def take_queued(pool: asyncpg.Pool, phone: str) -> list[asyncpg.Record]:
    """The terminal's queued messages, oldest first, now `sent` (the caller sends them and
    records each frame's serial with `sent_as`)."""
    return await pool.fetch(
        """UPDATE terminal_messages SET state = 'sent', sent_at = now()
           WHERE id IN (SELECT id FROM terminal_messages WHERE phone = $1 AND state = 'queued'
                          AND expires_at > now() ORDER BY id FOR UPDATE SKIP LOCKED)
           RETURNING id, text, tts, urgent""", phone)


async def sent_as(pool: asyncpg.Pool, serials: list[tuple[int, int]]) -> None:
    """(message id, header serial) of the 0x8300 frames about to be written."""
    await pool.executemany("UPDATE terminal_messages SET serial = $2 WHERE id = $1", serials)


async def unsent(pool: asyncpg.Pool, message_ids: list[int]) -> None:
    """Messages taken but not written (the connection was lost): queued again."""
    await pool.execute("UPDATE terminal_messages SET state = 'queued', sent_at = NULL, serial = NULL "
                       "WHERE id = ANY($1::bigint[]) AND state = 'sent'", message_ids)


async def answered(pool: asyncpg.Pool, phone: str, serial: int, result: int) -> bool:
    """The terminal's 0x0001 to the 0x8300 of `serial`: delivered (0) or failed."""
    return await pool.fetchval(
        """UPDATE terminal_messages SET state = CASE WHEN $3 = 0 THEN 'delivered' ELSE 'failed' END,
             result = $3, done_at = now()
           WHERE id = (SELECT id FROM terminal_messages WHERE phone = $1 AND serial = $2 AND state = 'sent'
                       ORDER BY sent_at DESC LIMIT 1) RETURNING true""", phone, serial, result) is not None


async def queued_phones(pool: asyncpg.Pool, phones: list[str]) -> list[str]:
    rows = await pool.fetch("""SELECT DISTINCT phone FROM terminal_messages WHERE phone = ANY($1::text[])
                               AND state = 'queued' AND expires_at > now()""", phones)
    return [r["phone"] for r in rows]
