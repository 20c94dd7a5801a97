"""What the server does with each frame of a platform link (docs/jt809.md).

- Before a login succeeds only a 0x1001 login is taken; anything else is dead-lettered
  (`not_logged_in`). The login's layout is read off its length (or must be the
  platform's configured one), an encrypted login is read with the keys of the platforms
  with its access code, and the answer 0x1002 says 0 ok, 1 address not allowed, 2 unknown
  access code, 3 not registered (unknown user id), 4 wrong password (6: another layout
  than the one configured). A refusal is answered after a delay, and the link closed after
  a few (`Jt809Limits`).
- 0x1005 heartbeat -> 0x1006; 0x1003 logout -> 0x1004 and the link ends.
- 0x1200 with 0x1202 (real time) or 0x1203 (back-fill): the positions become fixes with
  source "jt809" through the shared intake, for vehicles of the platform's own carriers
  only; the others are dead-lettered with the reason and the frame in hex. 0x1201
  registration is logged and counted.
- A frame that cannot be read (bad CRC, bad body, unknown sub-type body) is dead-lettered
  with its hex and counted; the link goes on.
JT/T 809 acknowledges no position, so a broker outage is waited out with the link not
read (TCP holds the platform back) instead of answering a failure.
"""
from __future__ import annotations

import asyncio
import ipaddress
import logging
import secrets
from functools import lru_cache

import asyncpg
import orjson

from schemas import validator
from streams.fix import ItemError, normalise_fix
from streams.kafka import BrokerUnavailable
from streams.times import now_ms
from tracker.db import platforms as db
from tracker.intake.items import Sorted, known_plates, sort_items
from tracker.jt809 import messages
from tracker.jt809.codec import Frame, decode, login_version
from tracker.jt809.crypto import Keys
from tracker.jt809.errors import CodecError
from tracker.jt809.fixes import SOURCE, extras, fix_item
from tracker.jt809.header import SIZES
from tracker.jt809.links import Platform
from tracker.jt809.positions import BACKFILL, REAL_TIME, Position, decode_positions
from tracker.jt809.vehicle import REGISTRATION, decode_envelope, decode_registration
from tracker.metrics import JT809_FIXES, JT809_FRAMES, JT809_LOGINS, JT809_REFUSALS, JT809_REGISTRATIONS

log = logging.getLogger(__name__)
FIX_SCHEMA = "fix.schema.json"
HANDLED = frozenset({messages.LOGIN, messages.LOGOUT, messages.HEARTBEAT, messages.DYNAMIC})
LOGIN_REFUSALS = {messages.IP_NOT_ALLOWED: "address_not_allowed", messages.BAD_ACCESS_CODE: "unknown_access_code",
                  messages.NOT_REGISTERED: "not_registered", messages.BAD_PASSWORD: "wrong_password",
                  messages.OTHER: "version_mismatch"}
MAX_MILEAGE_KM = 429496729.5  # the normalised fix's bound (a 2011 VEC3 can say more)
BROKER_RETRY_S = 1.0


@lru_cache(maxsize=16)
def frames_counter(msg_id: int):
    return JT809_FRAMES.labels(f"0x{msg_id:04X}" if msg_id in HANDLED else "other")


async def handle(conn, wire: bytes) -> None:
    try:
        await _handle(conn, wire)
    except (OSError, asyncio.TimeoutError, asyncpg.PostgresError, asyncpg.InterfaceError) as exc:
        JT809_REFUSALS.labels("database_unavailable").inc()
        log.warning("platform link %s: frame not handled, database unavailable: %r", conn.id, exc)
        if conn.link.platform is None:  # a login not checked: the platform logs in again later
            conn.close("database_unavailable")


async def _handle(conn, wire: bytes) -> None:
    link = conn.link
    if link.platform is None:
        await login(conn, wire)
        return
    frame = None
    try:
        frame = link.decode(wire)
        frames_counter(frame.msg_id).inc()
        conn.counted(frames=1)
        if frame.msg_id != messages.DYNAMIC:
            await flush(conn)
        if frame.msg_id == messages.HEARTBEAT:
            messages.decode_empty(frame)
            conn.send(messages.HEARTBEAT_RESPONSE, b"")
        elif frame.msg_id == messages.DYNAMIC:
            await dynamic(conn, frame, wire)
        elif frame.msg_id == messages.LOGIN:
            await login(conn, wire)
        elif frame.msg_id == messages.LOGOUT:
            messages.decode_logout(frame)
            conn.send(messages.LOGOUT_RESPONSE, b"")
            conn.close("logout")
        else:
            JT809_REFUSALS.labels("unsupported").inc()
            log.debug("platform link %s: 0x%04X not handled", conn.id, frame.msg_id)
    except CodecError as exc:
        await refused(conn, wire, exc.reason, exc.detail, exc.header or frame)


async def refused(conn, wire: bytes, reason: str, detail: str, header=None) -> None:
    """A frame that cannot be taken is dead-lettered in hex and counted; the link goes on."""
    JT809_REFUSALS.labels(reason).inc()
    conn.counted(refused=1)
    described = None if header is None else {
        "msg_id": f"0x{header.msg_id:04X}", "serial": header.serial, "access_code": header.access_code,
        "version": header.version}
    if header is not None and header.msg_id == messages.LOGIN:  # its body holds the password: kept out
        wire = wire[:1 + SIZES[header.version]]
        detail += " (login body withheld)"
    record = {"input": described, "error": f"{reason}: {detail}", "source": SOURCE, "received_at": now_ms(),
              "frame_hex": wire.hex()}
    log.debug("platform link %s: refused frame (%s: %s)", conn.id, reason, detail)  # counted, not a line each
    try:
        await conn.server.outlet.send([], [(None, orjson.dumps(record))])  # the plate is inside, if anywhere
    except BrokerUnavailable as exc:
        log.error("a refused JT/T 809 frame could not be dead-lettered (broker unavailable): %s %r", wire.hex(), exc)


async def _login_frame(conn, wire: bytes) -> Frame:
    """The login read in its own layout, encrypted or not (CodecError otherwise)."""
    try:
        version = login_version(wire)
    except CodecError as exc:
        raise CodecError("not_logged_in", f"nothing is taken before a login ({exc.detail})", exc.header) from None
    try:
        return decode(wire, version)
    except CodecError as exc:
        if exc.reason != "no_keys" or exc.header is None:
            raise
        readings = [(user_id, decode(wire, version, Keys(*keys)))
                    for user_id, keys in await db.keys_of(conn.server.pool, exc.header.access_code)]
        for user_id, frame in readings:
            if _user_of(frame) == user_id:  # these keys read it as their own platform's login
                return frame
        if readings:  # read, but as no user of these keys: the user id is checked as it came out
            return readings[0][1]
        raise CodecError("unknown_access_code", f"an encrypted login with access code {exc.header.access_code}, "
                                                f"which no platform with keys has", exc.header) from None


def address_allowed(remote: str, allowed: list[str]) -> bool:
    """`remote` ('host:port') is one of `allowed`, compared as addresses (an IPv4 peer of a
    dual-stack listener arrives as ::ffff:a.b.c.d)."""
    try:
        host = ipaddress.ip_address(remote.rpartition(":")[0].strip("[]"))
    except ValueError:
        return False
    if isinstance(host, ipaddress.IPv6Address) and host.ipv4_mapped is not None:
        host = host.ipv4_mapped
    return any(host == ipaddress.ip_address(a) for a in allowed)


def _user_of(frame: Frame) -> int | None:
    try:
        return messages.decode_login(frame).user_id
    except CodecError:
        return None


async def login(conn, wire: bytes) -> None:
    try:
        frame = await _login_frame(conn, wire)
        request = messages.decode_login(frame)
    except CodecError as exc:
        if exc.reason == "unknown_access_code":  # answerable: the header says who it claims to be
            JT809_LOGINS.labels(str(messages.BAD_ACCESS_CODE)).inc()
            await _refuse_login(conn, exc.header, messages.BAD_ACCESS_CODE, None)
        else:
            await refused(conn, wire, exc.reason, exc.detail, exc.header)
        return
    frames_counter(frame.msg_id).inc()
    access_code = request.access_code if request.access_code is not None else frame.access_code
    row = await db.by_user(conn.server.pool, request.user_id)
    if row is None:
        result = messages.NOT_REGISTERED
    elif row["access_code"] != access_code:
        result = messages.BAD_ACCESS_CODE
    elif row["allowed_ips"] and not address_allowed(conn.remote, row["allowed_ips"]):
        result = messages.IP_NOT_ALLOWED
    elif row["version"] and row["version"] != frame.version:
        result = messages.OTHER
    elif not await asyncio.to_thread(db.password_matches, request.password, row["password_hash"]):
        result = messages.BAD_PASSWORD
    else:
        result = messages.OK
    JT809_LOGINS.labels(str(result)).inc()
    if result != messages.OK:
        await _refuse_login(conn, frame, result, request.user_id)
        return
    keys = Keys(*row["encrypt_keys"]) if row["encrypt_keys"] else None
    if conn.link.platform is not None and conn.link.platform.id != row["id"]:  # the link changes hands
        await flush(conn)
        await conn.server.unlinked(conn)
    conn.link.version = frame.version
    conn.link.platform = Platform(row["id"], frozenset(row["carrier_ids"]), access_code, keys)
    conn.link.failures = 0
    await conn.server.fleet.reload()  # vehicles registered just before the login are known at once
    await conn.server.linked(conn)
    log.info("platform %s (user %d) logged in from %s (%s)", row["id"], request.user_id, conn.remote, frame.version)
    conn.send(messages.LOGIN_RESPONSE, messages.encode_login_response(messages.OK, secrets.randbits(32)))


async def _refuse_login(conn, frame, result: int, user_id: int | None) -> None:
    """The refusal, answered late; `frame` is the login or its header."""
    link = conn.link
    link.failures += 1
    JT809_REFUSALS.labels(LOGIN_REFUSALS[result]).inc()
    log.info("platform link %s from %s: login of user %s refused (result %d)", conn.id, conn.remote, user_id, result)
    await asyncio.sleep(link.limits.login_failure_delay_s)
    conn.send(messages.LOGIN_RESPONSE, messages.encode_login_response(result, 0), version=frame.version,
              access_code=frame.access_code)
    if link.failures >= link.limits.max_login_failures:
        JT809_REFUSALS.labels("login_failures").inc()
        conn.close("login_failures")


async def dynamic(conn, frame: Frame, wire: bytes) -> None:
    envelope = decode_envelope(frame.body)
    if envelope.sub_type in (REAL_TIME, BACKFILL):
        await positions(conn, decode_positions(frame), wire)
    elif envelope.sub_type == REGISTRATION:
        reg = decode_registration(frame)
        JT809_REGISTRATIONS.inc()
        log.info("platform %s registered vehicle %s: terminal %s (%s), SIM %s", conn.link.platform.id, reg.plate,
                 reg.terminal_id, reg.terminal_model, reg.sim)
    else:
        JT809_REFUSALS.labels("unsupported").inc()
        log.debug("platform link %s: 0x1200 sub-type 0x%04X not handled", conn.id, envelope.sub_type)


def acceptor(items: list[dict], found: list[Position], carrier_of, carriers: frozenset[str], platform: str,
             received_at: int):
    """The intake's `accept`: a fix of a vehicle of one of the platform's carriers."""
    extra = {id(item): position for item, position in zip(items, found)}

    def accept(item: dict) -> tuple[str, dict]:
        fix = normalise_fix(item, carrier_of=carrier_of, allowed_carrier=None, now_ms=received_at, source=SOURCE)
        if fix["carrier_id"] not in carriers:
            raise ItemError(f"plate {fix['plate']!r} belongs to no carrier of platform {platform!r}")
        more = extras(extra[id(item)])
        if more.get("mileage_km", 0) > MAX_MILEAGE_KM:
            del more["mileage_km"]
        fix.update(more)
        return fix["plate"], fix

    return accept


async def positions(conn, found: list[Position], wire: bytes) -> None:
    """Sorted now, handed to the broker with the other positions of the same read (`flush`)."""
    server, platform = conn.server, conn.link.platform
    items = [fix_item(position) for position in found]
    await server.fleet.reload_if_unknown(known_plates(items))
    received_at = now_ms()
    batch = sort_items(items, validator(FIX_SCHEMA),
                       acceptor(items, found, server.fleet.carrier_of, platform.carrier_ids, platform.id, received_at),
                       SOURCE, received_at, dead_extra={"frame_hex": wire.hex()})
    conn.pending.good += batch.good
    conn.pending.dead += batch.dead
    JT809_FIXES.labels("rejected").inc(len(batch.rejected))
    conn.counted(refused=len(batch.rejected))
    for rejection in batch.rejected:
        log.info("platform %s: position refused: %s", platform.id, rejection["error"])


async def flush(conn) -> None:
    """The positions of the frames read so far, to the broker in one hand-over; done before
    the link answers or reads anything else, so an answered heartbeat means every position
    before it is acknowledged."""
    pending = conn.pending
    if not pending.good and not pending.dead:
        return
    conn.pending = Sorted()
    while True:
        try:
            await conn.server.outlet.send(pending.good, pending.dead)
            break
        except BrokerUnavailable as exc:
            JT809_REFUSALS.labels("broker_unavailable").inc()
            if conn.closing is not None:
                log.error("platform link %s: %d position(s) lost, broker unavailable and the link closed: %s %r",
                          conn.id, len(pending.good), [value for _, value in pending.good], exc)
                return
            log.warning("platform link %s: broker unavailable, the link waits: %r", conn.id, exc)
            await asyncio.sleep(BROKER_RETRY_S)
    JT809_FIXES.labels("published").inc(len(pending.good))
    conn.counted(fixes=len(pending.good))
