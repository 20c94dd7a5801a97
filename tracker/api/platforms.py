"""PUT /v1/platforms/{id} and GET /v1/platforms: the carriers' JT/T 809 platforms allowed
to log in (docs/jt809.md), and the state of each one's link.

The password is hashed before it is stored and never shown again, nor are the cipher
keys (`encrypted` says whether there are some). Link state is read from PostgreSQL, where
every `hazmat jt809` process records which connection holds each platform.
"""
from __future__ import annotations

import asyncio
import ipaddress

import asyncpg
from aiohttp import web

from streams.times import epoch_ms, rfc3339
from tracker.api.context import POOL, SETTINGS, requires
from tracker.api.problems import Problem, error
from tracker.api.respond import json_bytes_response, read_json_object
from tracker.api.validate import check
from tracker.auth import ADMIN, OPERATOR, Principal
from tracker.db import platforms, registry


def _time(value) -> str | None:
    return rfc3339(epoch_ms(value)) if value is not None else None


@requires(ADMIN)
async def put_platform(request: web.Request, principal: Principal) -> web.Response:
    pid = request.match_info["id"]
    body = check("platform_request.schema.json", await read_json_object(request), "platform")
    pool = request.app[POOL]
    known = await registry.carrier_ids(pool)
    problems = [error(f"unknown carrier {c!r}", index=i, field="carrier_ids")
                for i, c in enumerate(body["carrier_ids"]) if c not in known]
    for i, address in enumerate(body.get("allowed_ips") or ()):
        try:
            ipaddress.ip_address(address)
        except ValueError:
            problems.append(error(f"{address!r} is not an IP address", index=i, field="allowed_ips"))
    password = body.get("password")
    if password is not None:
        try:
            too_long = len(password.encode("gbk")) > 8
        except UnicodeEncodeError:
            too_long = True
        if too_long:
            problems.append(error("must be at most 8 bytes in GBK", field="password"))
    elif not await platforms.exists(pool, pid):
        problems.append(error("a new platform needs a password", field="password"))
    if problems:
        raise Problem(422, "the platform cannot be registered", problems)
    hashed = None if password is None else await asyncio.to_thread(platforms.hash_password, password)
    try:
        row = await platforms.put(pool, pid, body, hashed)
    except asyncpg.UniqueViolationError:
        raise Problem(409, f"another platform has user_id {body['user_id']}") from None
    return json_bytes_response(platform_item(row), status=200 if row["existed"] else 201)


@requires(ADMIN, OPERATOR)
async def list_platforms(request: web.Request, principal: Principal) -> web.Response:
    rows = await platforms.listed(request.app[POOL], request.app[SETTINGS].jt809.idle_s)
    return json_bytes_response({"items": [platform_item(r) for r in rows]})


def platform_item(r) -> dict:
    """A platform as the API gives it (schemas/platform.schema.json)."""
    return {"id": r["id"], "name": r["name"], "carrier_ids": list(r["carrier_ids"]), "user_id": r["user_id"],
            "access_code": r["access_code"], "allowed_ips": None if r["allowed_ips"] is None else list(r["allowed_ips"]),
            "version": r["version"], "encrypted": r["encrypt_keys"] is not None,
            "link": {"connected": r["connected"], "remote_address": r["remote_addr"], "version": r["link_version"],
                     "connected_at": _time(r["connected_at"]), "disconnected_at": _time(r["disconnected_at"]),
                     "last_message_at": _time(r["last_message_at"]), "frames": r["frames"], "fixes": r["fixes"],
                     "refused": r["refused"]}}


def setup_platforms(app: web.Application) -> None:
    app.router.add_put("/v1/platforms/{id}", put_platform)
    app.router.add_get("/v1/platforms", list_platforms)
