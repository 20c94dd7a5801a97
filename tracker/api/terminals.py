"""GET /v1/terminals: the JT/T 808 terminals and whether each is connected now.

Read from PostgreSQL, where every gateway process records which connection holds each
terminal, so any API process answers the same whichever gateway the terminal reached.
"""
from __future__ import annotations

from aiohttp import web

from streams.times import epoch_ms, rfc3339
from tracker.api.context import POOL, SETTINGS, requires
from tracker.api.query import query_choice
from tracker.api.respond import json_bytes_response
from tracker.auth import ADMIN, OPERATOR, Principal
from tracker.db import terminals


def _time(value) -> str | None:
    return rfc3339(epoch_ms(value)) if value is not None else None


@requires(ADMIN, OPERATOR)
async def list_terminals(request: web.Request, principal: Principal) -> web.Response:
    connected = query_choice(request.rel_url.query, "connected", ("true", "false"))
    rows = await terminals.listed(request.app[POOL], request.app[SETTINGS].jt808.idle_s,
                                  None if connected is None else connected == "true")
    return json_bytes_response({"items": [terminal_item(r) for r in rows]})


def terminal_item(r) -> dict:
    """A terminal as the API gives it (schemas/terminal.schema.json)."""
    return {"phone": r["phone"], "plate": r["plate"], "header_version": r["header_version"],
            "connected": r["connected"], "remote_address": r["remote_addr"],
            "connected_at": _time(r["connected_at"]), "last_seen_at": _time(r["last_seen_at"]),
            "authenticated": r["authenticated"]}


def setup_terminals(app: web.Application) -> None:
    app.router.add_get("/v1/terminals", list_terminals)
