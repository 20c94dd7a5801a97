"""The app's shared resources under typed keys, and the role check every handler uses."""
from __future__ import annotations

from collections.abc import Awaitable, Callable
from functools import wraps

import asyncpg
from aiohttp import web

from streams.kafka import Publisher
from streams.topics import Topics
from tracker.api.parameters import check_parameters
from tracker.api.problems import Problem
from tracker.auth import Principal, TokenCache
from tracker.intake.fleet import Fleet
from tracker.settings import Settings

SETTINGS = web.AppKey("settings", Settings)
POOL = web.AppKey("pool", asyncpg.Pool)
PUBLISHER = web.AppKey("publisher", Publisher)
TOPICS = web.AppKey("topics", Topics)
FLEET = web.AppKey("fleet", Fleet)
TOKENS = web.AppKey("tokens", TokenCache)

MAX_TOKEN_CHARS = 512  # issued tokens have 43; an operator's own HAZMAT_ADMIN_TOKEN fits too
Handler = Callable[[web.Request, Principal], Awaitable[web.StreamResponse]]


def bearer_token(request: web.Request, in_query: bool = False) -> str | None:
    header = request.headers.get("Authorization", "")
    scheme, _, value = header.partition(" ")
    if scheme.lower() == "bearer" and value.strip():
        return value.strip()
    return request.rel_url.query.get("access_token") if in_query else None


def requires(*roles: str, token_in_query: bool = False) -> Callable[[Handler], Callable[[web.Request], Awaitable[web.StreamResponse]]]:
    """401 without a known token, 403 when the token's role is not one of `roles`.
    `token_in_query`: also `?access_token=` (the WebSocket only: browsers cannot give it
    headers, and query strings end up in access logs)."""

    def decorate(handler: Handler):
        @wraps(handler)
        async def wrapper(request: web.Request) -> web.StreamResponse:
            token = bearer_token(request, token_in_query)
            if token is not None and len(token) > MAX_TOKEN_CHARS:  # not hashed, not cached: unknown
                raise Problem(401, "the token is unknown or revoked", headers={"WWW-Authenticate": "Bearer"})
            if token is None:
                raise Problem(401, "send 'Authorization: Bearer <token>'", headers={"WWW-Authenticate": "Bearer"})
            principal = await request.app[TOKENS].principal(token)
            if principal is None:
                raise Problem(401, "the token is unknown or revoked", headers={"WWW-Authenticate": "Bearer"})
            if principal.role not in roles:
                raise Problem(403, f"role {principal.role!r} may not do this; allowed: {', '.join(roles)}")
            check_parameters(request)
            return await handler(request, principal)

        return wrapper

    return decorate
