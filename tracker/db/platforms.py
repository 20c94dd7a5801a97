"""JT/T 809 platforms: their accounts (PUT /v1/platforms/{id}) and the state of their links.

A JT/T 809 password is at most 8 bytes, chosen by people: an unsalted fast hash (as for
API tokens, which are 256 random bits) would give every 8-character password away to a
dictionary. So it is kept as a salted PBKDF2-SHA256 with the iteration count beside it
(raisable later without invalidating stored ones); a check costs a few milliseconds, run
off the event loop by the server. A link is connected while a server connection holds
the row (`connection_id`) and a message came within the idle limit, so a server that
died without cleaning up stops counting after that limit.
"""
from __future__ import annotations

import hashlib
import hmac
import os

import asyncpg

ITERATIONS = 20_000
_SCHEME = "pbkdf2_sha256"


def hash_password(password: str) -> str:
    salt = os.urandom(16)
    digest = hashlib.pbkdf2_hmac("sha256", password.encode("gbk"), salt, ITERATIONS)
    return f"{_SCHEME}${ITERATIONS}${salt.hex()}${digest.hex()}"


def password_matches(password: str, stored: str) -> bool:
    """Constant-time comparison; False for a stored value of an unknown scheme."""
    scheme, _, rest = stored.partition("$")
    iterations, _, rest = rest.partition("$")
    salt, _, digest = rest.partition("$")
    if scheme != _SCHEME or not iterations.isdigit():
        return False
    try:
        raw = password.encode("gbk")
    except UnicodeEncodeError:
        return False
    got = hashlib.pbkdf2_hmac("sha256", raw, bytes.fromhex(salt), int(iterations))
    return hmac.compare_digest(got.hex(), digest)


_COLUMNS = """id, name, carrier_ids, user_id, access_code, allowed_ips, version, encrypt_keys, updated_at,
              remote_addr, link_version, connected_at, disconnected_at, last_message_at, frames, fixes, refused"""


async def put(pool: asyncpg.Pool, pid: str, body: dict, password_hash: str | None) -> asyncpg.Record:
    """Create or replace a platform; the stored password hash is kept when None is given
    (the caller refuses a new platform without one). Raises UniqueViolationError when
    another platform has the user id."""
    keys = body.get("encrypt")
    return await pool.fetchrow(
        f"""INSERT INTO platforms AS p (id, name, carrier_ids, user_id, password_hash, access_code, allowed_ips,
                                        version, encrypt_keys)
            VALUES ($1, $2, $3, $4, coalesce($5, ''), $6, $7, $8, $9)
            ON CONFLICT (id) DO UPDATE SET name = EXCLUDED.name, carrier_ids = EXCLUDED.carrier_ids,
              user_id = EXCLUDED.user_id, password_hash = coalesce($5, p.password_hash),
              access_code = EXCLUDED.access_code, allowed_ips = EXCLUDED.allowed_ips, version = EXCLUDED.version,
              encrypt_keys = EXCLUDED.encrypt_keys, updated_at = now()
            RETURNING {_COLUMNS}, (p.connection_id IS NOT NULL) AS connected, (xmax <> 0) AS existed""",
        pid, body["name"], body["carrier_ids"], body["user_id"], password_hash, body["access_code"],
        body.get("allowed_ips"), body.get("version"),
        None if keys is None else [keys["m1"], keys["ia1"], keys["ic1"]])


async def exists(pool: asyncpg.Pool, pid: str) -> bool:
    return await pool.fetchval("SELECT EXISTS (SELECT 1 FROM platforms WHERE id = $1)", pid)


async def listed(pool: asyncpg.Pool, idle_s: float) -> list[asyncpg.Record]:
    """GET /v1/platforms: every platform and whether its link is up."""
    return await pool.fetch(
        f"""SELECT {_COLUMNS}, (connection_id IS NOT NULL
                                AND last_message_at > now() - make_interval(secs => $1)) AS connected
            FROM platforms ORDER BY id""", float(idle_s))


async def by_user(pool: asyncpg.Pool, user_id: int) -> asyncpg.Record | None:
    """What a login is checked against."""
    return await pool.fetchrow(
        """SELECT id, carrier_ids, password_hash, access_code, allowed_ips, version, encrypt_keys
           FROM platforms WHERE user_id = $1""", user_id)


async def keys_of(pool: asyncpg.Pool, access_code: int) -> list[tuple[int, list[int]]]:
    """(user id, cipher keys) of the platforms with this access code: an encrypted login is
    read with the keys that turn it into that platform's user id."""
    rows = await pool.fetch(
        "SELECT user_id, encrypt_keys FROM platforms WHERE access_code = $1 AND encrypt_keys IS NOT NULL", access_code)
    return [(r["user_id"], list(r["encrypt_keys"])) for r in rows]


async def linked(pool: asyncpg.Pool, pid: str, connection_id: str, remote: str, version: str) -> None:
    await pool.execute(
        """UPDATE platforms SET connection_id = $2, remote_addr = $3, link_version = $4, connected_at = now(),
             disconnected_at = NULL, last_message_at = now() WHERE id = $1""", pid, connection_id, remote, version)


async def unlinked(pool: asyncpg.Pool, pid: str, connection_id: str) -> None:
    """The connection ended; a newer one that took the platform over keeps it."""
    await pool.execute(
        "UPDATE platforms SET connection_id = NULL, disconnected_at = now() WHERE id = $1 AND connection_id = $2",
        pid, connection_id)


async def server_stopped(pool: asyncpg.Pool, server_id: str) -> None:
    await pool.execute(
        "UPDATE platforms SET connection_id = NULL, disconnected_at = now() WHERE connection_id LIKE $1 || ':%'",
        server_id)


async def heard(pool: asyncpg.Pool, counts: dict[str, tuple[int, int, int]]) -> None:
    """Platform id -> (frames, fixes, refused) since the last flush: one statement a second."""
    if counts:
        ids = list(counts)
        await pool.execute(
            """UPDATE platforms p SET last_message_at = now(), frames = p.frames + c.frames,
                 fixes = p.fixes + c.fixes, refused = p.refused + c.refused
               FROM unnest($1::text[], $2::bigint[], $3::bigint[], $4::bigint[]) AS c(id, frames, fixes, refused)
               WHERE p.id = c.id""",
            ids, [counts[i][0] for i in ids], [counts[i][1] for i in ids], [counts[i][2] for i in ids])
