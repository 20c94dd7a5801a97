"""POST/GET /v1/terminals/{phone}/messages: texts to a driver's terminal (0x8300).

The API writes the message and NOTIFYs; the JT/T 808 gateway holding the terminal (a
process of its own) sends it. The answer says `sent` when a gateway took it within a
moment (the terminal is connected), else `queued`: it waits HAZMAT_MESSAGE_TTL_S, then
`expired`.
"""
from __future__ import annotations

import asyncio

from aiohttp import web

from streams.times import epoch_ms, rfc3339
from tracker.api.context import POOL, SETTINGS, requires
from tracker.api.problems import Problem, error
from tracker.api.query import query_limit
from tracker.api.respond import json_bytes_response, read_json_object
from tracker.api.validate import check
from tracker.auth import ADMIN, OPERATOR, Principal
from tracker.db import messages

SENT_WAIT_S = 2.0  # how long the answer waits for a gateway to take the message


def _time(value) -> str | None:
    return rfc3339(epoch_ms(value)) if value is not None else None


async def _terminal(request: web.Request) -> tuple[str, bool]:
    """The path's phone as a key, and whether its terminal is connected; 404 when no
    vehicle has it and no terminal registered with it."""
    phone = request.match_info["phone"].lstrip("0")
    connected = await messages.terminal_connected(request.app[POOL], phone, request.app[SETTINGS].jt808.idle_s) \
        if phone else None
    if connected is None:
        raise Problem(404, f"no terminal {request.match_info['phone']!r}")
    return phone, connected


@requires(ADMIN, OPERATOR)
async def post_message(request: web.Request, principal: Principal) -> web.Response:
    body = check("message_request.schema.json", await read_json_object(request), "message")
    text = body["text"]
    try:
        text.encode("gbk")
    except UnicodeEncodeError as exc:
        raise Problem(400, "the text cannot be sent: a terminal shows GBK only",
                      [error(f"{text[exc.start:exc.end]!r} is not in GBK", field="text")]) from None
    if not text.strip():
        raise Problem(400, "the text is blank", [error("not blank", field="text")])
    phone, connected = await _terminal(request)
    pool = request.app[POOL]
    message_id = await messages.create(pool, phone, text, body.get("tts", False), body.get("urgent", False),
                                       principal.label or principal.role, request.app[SETTINGS].message_ttl_s)
    state = "queued"
    if connected:
        for _ in range(int(SENT_WAIT_S / 0.1)):
            state = await messages.state(pool, message_id)
            if state != "queued":
                break
            await asyncio.sleep(0.1)
    return json_bytes_response({"message_id": str(message_id), "state": "queued" if state == "queued" else "sent"},
                               status=202)


@requires(ADMIN, OPERATOR)
async def list_messages(request: web.Request, principal: Principal) -> web.Response:
    phone, _ = await _terminal(request)
    pool = request.app[POOL]
    await messages.expire(pool)
    rows = await messages.listed(pool, phone, query_limit(request.rel_url.query))
    items = [{"message_id": str(r["id"]), "phone": r["phone"], "text": r["text"], "tts": r["tts"],
              "urgent": r["urgent"], "state": r["state"], "by": r["by"], "violation_id": r["violation_id"],
              "result": r["result"], "created_at": _time(r["created_at"]), "expires_at": _time(r["expires_at"]),
              "sent_at": _time(r["sent_at"]), "done_at": _time(r["done_at"])} for r in rows]
    return json_bytes_response({"items": items})


def setup_messages(app: web.Application) -> None:
    app.router.add_post("/v1/terminals/{phone}/messages", post_message)
    app.router.add_get("/v1/terminals/{phone}/messages", list_messages)
