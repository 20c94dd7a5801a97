"""Tokens and roles: who may call what (docs/api.md "Auth and roles").

Tokens are 256-bit random strings; only their SHA-256 is stored. A fast unsalted hash is
enough for secrets of that entropy, and it lets a lookup be one indexed equality.
"""
from __future__ import annotations

import hashlib
import secrets
import time
from dataclasses import dataclass

import asyncpg

ROLES = ("admin", "operator", "gateway", "station", "agency", "camera")
ADMIN, OPERATOR, GATEWAY, STATION, AGENCY, CAMERA = ROLES
READERS = (ADMIN, OPERATOR, AGENCY)  # "any but gateway/station" (nor camera)


@dataclass(frozen=True)
class Principal:
    token_id: int
    role: str
    carrier_id: str | None = None
    station_id: str | None = None
    agency: str | None = None
    label: str | None = None  # who acts, in the alarm-handling history
    checkpoint_id: str | None = None  # a camera's checkpoint


def acting(principal: Principal) -> str:
    """Who acts, as histories record it: the token's label, else its number."""
    return principal.label or f"token {principal.token_id}"


def hash_token(token: str) -> bytes:
    return hashlib.sha256(token.encode()).digest()


def new_token() -> str:
    return secrets.token_urlsafe(32)


async def insert_token(
    conn: asyncpg.Connection | asyncpg.Pool,
    token: str,
    role: str,
    label: str,
    *,
    carrier_id: str | None = None,
    station_id: str | None = None,
    agency: str | None = None,
    checkpoint_id: str | None = None,
) -> int:
    return await conn.fetchval(
        """INSERT INTO tokens (token_hash, role, carrier_id, station_id, agency, label, checkpoint_id)
           VALUES ($1, $2, $3, $4, $5, $6, $7)
           ON CONFLICT (token_hash) DO UPDATE SET revoked_at = NULL RETURNING id""",
        hash_token(token), role, carrier_id, station_id, agency, label, checkpoint_id,
    )


async def bootstrap_admin(pool: asyncpg.Pool, configured: str | None) -> str | None:
    """Make sure an admin can log in; returns a token to print when one was made or configured.

    With HAZMAT_ADMIN_TOKEN set that token is (re)registered. Without it, a token is
    generated only when no admin token exists yet, since stored hashes cannot be shown again.
    """
    if configured:
        await insert_token(pool, configured, ADMIN, "bootstrap admin (HAZMAT_ADMIN_TOKEN)")
        return configured
    if await pool.fetchval("SELECT count(*) FROM tokens WHERE role = 'admin' AND revoked_at IS NULL"):
        return None
    token = new_token()
    await insert_token(pool, token, ADMIN, "bootstrap admin (generated)")
    return token


class TokenCache:
    """Token hash -> Principal, re-read after `ttl_s` so a revocation takes effect quickly."""

    def __init__(self, pool: asyncpg.Pool, ttl_s: float = 10.0) -> None:
        self._pool = pool
        self._ttl_s = ttl_s
        self._entries: dict[bytes, tuple[float, Principal | None]] = {}

    async def principal(self, token: str) -> Principal | None:
        key = hash_token(token)
        now = time.monotonic()
        hit = self._entries.get(key)
        if hit and now - hit[0] < self._ttl_s:
            return hit[1]
        row = await self._pool.fetchrow(
            """SELECT id, role, carrier_id, station_id, agency, label, checkpoint_id FROM tokens
               WHERE token_hash = $1 AND revoked_at IS NULL""",
            key,
        )
        principal = (Principal(row["id"], row["role"], row["carrier_id"], row["station_id"], row["agency"], row["label"],
                               row["checkpoint_id"]) if row else None)
        if len(self._entries) > 10_000:
            self._entries.clear()  # bounded: guessing tokens must not grow memory
        self._entries[key] = (now, principal)
        return principal
