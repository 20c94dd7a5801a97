"""JT/T 808 terminals: registration, auth codes, which gateway connection holds each one.

Codes are kept as SHA-256, like API tokens (tracker.auth): they are random 96-bit
strings, so an unsalted hash is enough and a check is one indexed equality. A terminal
is connected while a gateway connection holds its row (`connection_id`) and it was heard
within the idle limit, so a gateway that died without cleaning up stops counting after
that limit. Takeovers are announced on CHANNEL so the gateway process holding the old
connection closes it.
"""
from __future__ import annotations

import hashlib

import asyncpg

CHANNEL = "hazmat_terminals"


def hash_code(code: str | bytes) -> bytes:
    return hashlib.sha256(code.encode() if isinstance(code, str) else code).digest()


async def vehicle_of(pool: asyncpg.Pool, phone: str) -> asyncpg.Record | None:
    """(plate, carrier_id) of the vehicle whose terminal_phone is `phone` (a phone key)."""
    return await pool.fetchrow(
        "SELECT plate, carrier_id FROM vehicles WHERE ltrim(terminal_phone, '0') = $1", phone)


async def register(pool: asyncpg.Pool, phone: str, plate: str, code_hash: bytes, version: str,
                   protocol_version: int | None) -> None:
    """A new code for the terminal: the old one stops working at once, and a connection
    authenticated with it is told to let go (the caller notifies)."""
    await pool.execute(
        """INSERT INTO terminals (phone, plate, auth_code_hash, header_version, protocol_version, registered_at,
                                  last_seen_at)
           VALUES ($1, $2, $3, $4, $5, now(), now())
           ON CONFLICT (phone) DO UPDATE SET plate = EXCLUDED.plate, auth_code_hash = EXCLUDED.auth_code_hash,
             header_version = EXCLUDED.header_version, protocol_version = EXCLUDED.protocol_version,
             registered_at = now(), authenticated = false, last_seen_at = now()""",
        phone, plate, code_hash, version, protocol_version)


async def authenticate(pool: asyncpg.Pool, phone: str, code_hash: bytes, connection_id: str, remote: str,
                       version: str, protocol_version: int | None) -> asyncpg.Record | None:
    """Bind the terminal to this connection when the code is its current one; returns the
    vehicle (plate, carrier_id) its phone names now, or None (wrong code, no vehicle)."""
    async with pool.acquire() as conn, conn.transaction():
        row = await conn.fetchrow(
            """UPDATE terminals t SET connection_id = $3, authenticated = true, remote_addr = $4,
                 connected_at = now(), disconnected_at = NULL, last_seen_at = now(), header_version = $5,
                 protocol_version = $6
               FROM vehicles v
               WHERE t.phone = $1 AND t.auth_code_hash = $2 AND ltrim(v.terminal_phone, '0') = t.phone
               RETURNING v.plate, v.carrier_id""",
            phone, code_hash, connection_id, remote, version, protocol_version)
        if row is not None:
            await conn.execute("SELECT pg_notify($1, $2)", CHANNEL, f"{phone} {connection_id}")
        return row


async def logout(pool: asyncpg.Pool, phone: str, connection_id: str) -> bool:
    """The code stops working (0x0003); only the connection authenticated as the terminal may."""
    return await pool.fetchval(
        """UPDATE terminals SET auth_code_hash = NULL, authenticated = false, last_seen_at = now()
           WHERE phone = $1 AND connection_id = $2 RETURNING true""", phone, connection_id) is not None


async def disconnected(pool: asyncpg.Pool, phone: str, connection_id: str) -> None:
    """The connection ended; a newer connection that took the terminal over keeps it."""
    await pool.execute(
        """UPDATE terminals SET connection_id = NULL, authenticated = false, disconnected_at = now()
           WHERE phone = $1 AND connection_id = $2""", phone, connection_id)


async def gateway_stopped(pool: asyncpg.Pool, gateway_id: str) -> None:
    """Every connection of a gateway process that stops is over."""
    await pool.execute(
        """UPDATE terminals SET connection_id = NULL, authenticated = false, disconnected_at = now()
           WHERE connection_id LIKE $1 || ':%'""", gateway_id)


async def seen(pool: asyncpg.Pool, phones: list[str]) -> None:
    """Terminals heard from just now (one statement for a gateway's whole second)."""
    if phones:
        await pool.execute("UPDATE terminals SET last_seen_at = now() WHERE phone = ANY($1::text[])", phones)


async def listed(pool: asyncpg.Pool, idle_s: float, connected: bool | None = None,
                 plate: str | None = None) -> list[asyncpg.Record]:
    """GET /v1/terminals: every registered terminal (or the one of `plate`), the vehicle its
    phone names now."""
    return await pool.fetch(
        """SELECT phone, plate, header_version, remote_addr, connected_at, last_seen_at, connected,
                  connected AND authenticated AS authenticated
           FROM (SELECT t.phone, t.header_version, t.remote_addr, t.connected_at, t.last_seen_at,
                        t.authenticated, coalesce(v.plate, t.plate) AS plate,
                        (t.connection_id IS NOT NULL
                         AND t.last_seen_at > now() - make_interval(secs => $1)) AS connected
                 FROM terminals t LEFT JOIN vehicles v ON ltrim(v.terminal_phone, '0') = t.phone) s
           WHERE ($2::bool IS NULL OR connected = $2) AND ($3::text IS NULL OR plate = $3)
           ORDER BY phone""", float(idle_s), connected, plate)
