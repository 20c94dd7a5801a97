"""Texts to drivers (0x8300) from `terminal_messages` to the terminal's connection.

The API (and the reminders) queue a message and NOTIFY; the gateway holding the terminal
takes the queue, sends each as 0x8300 in the header version the terminal used, and
records the frame's serial, so the terminal's 0x0001 to it marks it delivered (result 0)
or failed. A terminal that authenticates gets what waited for it; the gateway's tick
looks again every few seconds (a NOTIFY missed while its listening connection was
down) and expires what waited too long.
"""
from __future__ import annotations

import asyncio
import logging

import asyncpg

from tracker.db import messages as db
from tracker.jt808.codec import encode
from tracker.jt808.messages import TEXT_MESSAGE, encode_text_message
from tracker.metrics import JT808_TEXTS

log = logging.getLogger(__name__)
DATABASE_ERRORS = (OSError, asyncio.TimeoutError, asyncpg.PostgresError, asyncpg.InterfaceError)


async def deliver(conn) -> int:
    """Send the queued messages of the terminal `conn` holds; how many were written."""
    terminal = conn.session.terminal
    if terminal is None or conn.closing is not None:
        return 0
    async with conn.sending:  # one delivery a connection at a time: serials in order
        pool = conn.gateway.pool
        try:
            taken = await db.take_queued(pool, terminal.phone)
        except DATABASE_ERRORS as exc:
            log.warning("terminal %s: queued messages wait, database unavailable: %r", terminal.phone, exc)
            return 0
        if not taken:
            return 0
        session = conn.session
        frames = []
        for row in taken:
            serial = session.next_serial()
            body = encode_text_message(row["text"], tts=row["tts"], urgent=row["urgent"], version=session.version)
            frames.append((row["id"], serial, encode(TEXT_MESSAGE, terminal.phone, serial, body,
                                                     version=session.version,
                                                     protocol_version=session.protocol_version)))
        try:
            await db.sent_as(pool, [(message_id, serial) for message_id, serial, _ in frames])
            for _, _, wire in frames:
                await conn.write(wire, TEXT_MESSAGE, None)
            await conn.writer.drain()
        except (ConnectionError, *DATABASE_ERRORS) as exc:
            log.info("terminal %s: %d message(s) queued again: %r", terminal.phone, len(frames), exc)
            JT808_TEXTS.labels("requeued").inc(len(frames))
            try:
                await db.unsent(pool, [message_id for message_id, _, _ in frames])
            except DATABASE_ERRORS:
                pass  # (still `sent`, never answered: shown so)
            return 0
        JT808_TEXTS.labels("sent").inc(len(frames))
        return len(frames)


async def answered(conn, reply_serial: int, result: int) -> None:
    """The terminal's 0x0001 to one of our 0x8300."""
    terminal = conn.session.terminal
    if terminal is not None and await db.answered(conn.gateway.pool, terminal.phone, reply_serial, result):
        JT808_TEXTS.labels("delivered" if result == 0 else "failed").inc()


def schedule(conn) -> None:
    """Deliver in the background (from a NOTIFY callback or a handler that must answer first)."""
    task = asyncio.get_running_loop().create_task(deliver(conn))
    conn.gateway.background.add(task)
    task.add_done_callback(conn.gateway.background.discard)
