"""What the gateway does with each whole message (docs/jt808.md "What the gateway answers").

- 0x0100 register -> 0x8100: 0 and a new code (the old stops working), 4 when no vehicle
  has the phone, 2 when the body names another plate than the phone's vehicle.
- 0x0102 authenticate -> 0x8001 0 for the current code, else 1; the connection now holds
  the terminal (a connection that held it before is closed: takeover).
- 0x0003 logout -> the code stops working (0); 1 from a connection not authenticated as it.
- 0x0002 heartbeat -> 0; 0x0001 (the terminal's own answer) -> nothing, except that its
  answer to one of our 0x8300 texts marks the message delivered or failed.
- 0x0200, 0x0704 -> positions published as fixes, 0 once the broker acknowledged them
  all; 1 and nothing stored from a connection not authenticated as the terminal, or when
  the broker did not acknowledge (the terminal sends again).
A body that cannot be read is answered 2 and dead-lettered with the frame in hex.
"""
from __future__ import annotations

import asyncio
import logging
import secrets
import time
from functools import lru_cache

import asyncpg
import orjson

from schemas import validator
from streams.fix import ItemError, normalise_plate
from streams.kafka import BrokerUnavailable
from streams.times import now_ms
from tracker.db import terminals as db
from tracker.intake.items import sort_items
from tracker.jt808 import location, messages, texts
from tracker.jt808.codec import phone_key
from tracker.jt808.errors import DecodeError
from tracker.jt808.fixes import SOURCE, acceptor, items_of
from tracker.jt808.messages import REGISTER_RESPONSE
from tracker.jt808.sessions import (
    AUTHENTICATE,
    BATCH,
    FAILED,
    HEARTBEAT,
    LOCATION,
    LOGOUT,
    MALFORMED,
    OK,
    PLATE_MISMATCH,
    REGISTER,
    REGISTERED,
    TERMINAL_RESPONSE,
    UNKNOWN_TERMINAL,
    Inbound,
    Refused,
    Terminal,
)
from tracker.metrics import JT808_ACK_SECONDS, JT808_FIXES, JT808_FRAMES, JT808_REFUSALS

log = logging.getLogger(__name__)
FIX_SCHEMA = "fix.schema.json"


@lru_cache(maxsize=64)
def frames_counter(msg_id: int):
    """Only handled ids reach here (the session answers the others 3): a bounded label set."""
    return JT808_FRAMES.labels(f"0x{msg_id:04X}")


def new_code() -> str:
    """An auth code: 96 random bits as 16 URL-safe ASCII characters (any GBK terminal
    stores and repeats them unchanged)."""
    return secrets.token_urlsafe(12)


async def handle(conn, inbound: Inbound) -> None:
    frame = inbound.frame
    frames_counter(frame.msg_id).inc()
    try:
        if frame.msg_id == REGISTER:
            await register(conn, inbound)
        elif frame.msg_id == AUTHENTICATE:
            await authenticate(conn, inbound)
        elif frame.msg_id == LOGOUT:
            await logout(conn, inbound)
        elif frame.msg_id == HEARTBEAT:
            messages.decode_empty(frame)
            heard(conn, inbound)
            await answer(conn, inbound, OK)
        elif frame.msg_id == TERMINAL_RESPONSE:
            response = messages.decode_general_response(frame)
            heard(conn, inbound)
            if response.reply_msg_id == messages.TEXT_MESSAGE and conn.session.authorised(frame):
                await texts.answered(conn, response.reply_serial, response.result)
        elif frame.msg_id in (LOCATION, BATCH):
            await report(conn, inbound)
    except DecodeError as exc:
        await refused(conn, Refused(inbound.wire, exc.reason, exc.detail, frame))
        await answer(conn, inbound, MALFORMED)
    except (OSError, asyncio.TimeoutError, asyncpg.PostgresError, asyncpg.InterfaceError) as exc:
        JT808_REFUSALS.labels("database_unavailable").inc()
        log.warning("terminal %s: 0x%04X not handled, database unavailable: %r", frame.phone, frame.msg_id, exc)
        await answer(conn, inbound, FAILED)


async def answer(conn, inbound: Inbound, result: int) -> None:
    reply = conn.session.reply(inbound.reply_to, result)
    await conn.write(reply.wire, reply.msg_id, result)


def heard(conn, inbound: Inbound) -> None:
    """The terminal counts as online: its last-seen time moves (flushed each second)."""
    if conn.session.authorised(inbound.frame):
        conn.gateway.seen.add(conn.session.terminal.phone)


async def refused(conn, event: Refused) -> None:
    """A frame that cannot be taken is dead-lettered in hex; the connection goes on."""
    JT808_REFUSALS.labels(event.reason).inc()
    header = event.header
    terminal = conn.session.terminal
    plate = terminal.plate if terminal is not None and header is not None and conn.session.authorised(header) else None
    described = None if header is None else {
        "msg_id": f"0x{header.msg_id:04X}", "phone": header.phone, "serial": header.serial,
        "version": getattr(header, "version", None)}
    record = {"input": described, "error": f"{event.reason}: {event.detail}", "source": SOURCE,
              "received_at": now_ms(), "frame_hex": event.wire.hex()}
    # Dead-lettered with its bytes and counted per reason: a line each would let a stream of
    # garbage flood the log.
    log.debug("terminal connection %s: refused frame (%s: %s)", conn.id, event.reason, event.detail)
    try:
        await conn.gateway.outlet.send([], [(plate.encode() if plate else None, orjson.dumps(record))])
    except BrokerUnavailable as exc:
        log.error("a refused JT/T 808 frame could not be dead-lettered (broker unavailable): %s %r",
                  event.wire.hex(), exc)


async def register(conn, inbound: Inbound) -> None:
    frame = inbound.frame
    body = messages.decode_register(frame)
    phone = phone_key(frame.phone)
    vehicle = await db.vehicle_of(conn.gateway.pool, phone)
    code = ""
    if vehicle is None:
        result = UNKNOWN_TERMINAL
    elif not _same_plate(body, vehicle["plate"]):
        result = PLATE_MISMATCH
    else:
        code = new_code()
        await db.register(conn.gateway.pool, phone, vehicle["plate"], db.hash_code(code), frame.version,
                          frame.protocol_version)
        result = REGISTERED
        terminal = conn.session.terminal
        if terminal is not None and terminal.phone == phone:  # its code just changed
            conn.session.terminal = None
            conn.gateway.release(phone, conn)
        holder = conn.gateway.holders.holder(phone)
        if holder is not None and holder is not conn:
            holder.close("takeover")
        await conn.gateway.pool.execute("SELECT pg_notify($1, $2)", db.CHANNEL, f"{phone} {conn.id}")
    if result != REGISTERED:
        JT808_REFUSALS.labels("unknown_terminal" if result == UNKNOWN_TERMINAL else "plate_mismatch").inc()
        log.info("terminal %s: registration refused (result %d)", frame.phone, result)
    reply = conn.session.answer(inbound.reply_to, REGISTER_RESPONSE,
                                messages.encode_register_response(inbound.reply_to.serial, result, code or None))
    await conn.write(reply, REGISTER_RESPONSE, result)


def _same_plate(body, plate: str) -> bool:
    """True unless the body names a plate and it is not the phone's vehicle's (a body
    without one, as a 2019 terminal with plate colour 0 sends its VIN, names none)."""
    named = (body.plate or "").strip("\x00 ")
    if not named or body.plate_color == 0:
        return True
    try:
        return normalise_plate(named) == plate
    except ItemError:
        return False


async def authenticate(conn, inbound: Inbound) -> None:
    frame = inbound.frame
    body = messages.decode_auth(frame)
    phone = phone_key(frame.phone)
    vehicle = await db.authenticate(conn.gateway.pool, phone, db.hash_code(body.code), conn.id, conn.remote,
                                    frame.version, frame.protocol_version)
    if vehicle is None:
        JT808_REFUSALS.labels("wrong_auth_code").inc()
        log.info("terminal %s from %s: authentication refused", frame.phone, conn.remote)
        await answer(conn, inbound, FAILED)
        return
    previous = conn.session.terminal
    if previous is not None and previous.phone != phone:  # one connection, another terminal
        conn.gateway.release(previous.phone, conn)
        await db.disconnected(conn.gateway.pool, previous.phone, conn.id)
    conn.session.terminal = Terminal(phone, vehicle["plate"], vehicle["carrier_id"])
    conn.gateway.claim(phone, conn)
    log.debug("terminal %s (%s) authenticated from %s", frame.phone, vehicle["plate"], conn.remote)  # routine
    await answer(conn, inbound, OK)
    texts.schedule(conn)  # what waited for it


async def logout(conn, inbound: Inbound) -> None:
    frame = inbound.frame
    messages.decode_empty(frame)
    if not conn.session.authorised(frame):
        JT808_REFUSALS.labels("not_authenticated").inc()
        await answer(conn, inbound, FAILED)
        return
    phone = conn.session.terminal.phone
    await db.logout(conn.gateway.pool, phone, conn.id)
    conn.session.terminal = None
    conn.gateway.release(phone, conn)
    log.info("terminal %s logged out: it must register again", frame.phone)
    await answer(conn, inbound, OK)


async def report(conn, inbound: Inbound) -> None:
    """0x0200 or 0x0704: the positioned reports become fixes exactly as HTTP fixes do."""
    started = time.perf_counter()
    frame = inbound.frame
    if not conn.session.authorised(frame):
        JT808_REFUSALS.labels("not_authenticated").inc()
        await answer(conn, inbound, FAILED)
        return
    if frame.msg_id == LOCATION:
        reports = [location.decode_location(frame.body)]
    else:
        reports = list(location.decode_batch(frame.body).locations)
    heard(conn, inbound)
    terminal = conn.session.terminal
    items, kept = items_of(terminal.plate, reports)
    if items:
        received_at = now_ms()
        fleet = conn.gateway.fleet

        def carrier_of(plate: str) -> str | None:  # the registry as last read, else as authenticated
            return fleet.carrier_of(plate) or (terminal.carrier_id if plate == terminal.plate else None)

        batch = sort_items(items, validator(FIX_SCHEMA), acceptor(items, kept, carrier_of, received_at),
                           SOURCE, received_at, dead_extra={"frame_hex": inbound.wire.hex()})
        try:
            await conn.gateway.outlet.send(batch.good, batch.dead)
        except BrokerUnavailable as exc:
            JT808_REFUSALS.labels("broker_unavailable").inc()
            log.warning("terminal %s: %d position(s) not accepted, broker unavailable: %r", frame.phone,
                        len(items), exc)
            await answer(conn, inbound, FAILED)
            return
        JT808_FIXES.labels("published").inc(len(batch.good))
        JT808_FIXES.labels("rejected").inc(len(batch.rejected))
        for rejection in batch.rejected:
            log.info("terminal %s: position refused: %s", frame.phone, rejection["error"])
        JT808_ACK_SECONDS.observe(time.perf_counter() - started)
    await answer(conn, inbound, OK)
