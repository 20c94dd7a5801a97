"""POST /v1/violations/{id}/ack and /resolve: the safety office's alarm handling (报警处置).

Operators and admins act; the history records the acting token's label. Agencies read
handling with the violations but cannot change it (403).
"""
from __future__ import annotations

from aiohttp import web

from tracker.api.context import POOL, TOPICS, requires
from tracker.api.problems import Problem
from tracker.api.respond import json_bytes_response, read_json_object
from tracker.api.validate import check
from tracker.auth import ADMIN, OPERATOR, Principal, acting
from tracker.db.handling import AlreadyResolved, handle


async def _body(request: web.Request, schema: str, what: str) -> dict:
    """The body checked against its schema; an empty body is `{}` (`curl -X POST …/ack`)."""
    if request.content_length == 0 or (request.content_length is None and not request.body_exists):
        return check(schema, {}, what)
    return check(schema, await read_json_object(request), what)


async def _handle(request: web.Request, principal: Principal, action: str, body: dict) -> web.Response:
    vid = request.match_info["id"]
    by = acting(principal)
    try:
        violation = await handle(request.app[POOL], request.app[TOPICS], vid, action, by,
                                 note=body.get("note"), disposition=body.get("disposition"))
    except AlreadyResolved:
        raise Problem(409, f"violation {vid!r} is resolved already; a resolution stands") from None
    if violation is None:
        raise Problem(404, f"no violation {vid!r}")
    return json_bytes_response(violation)


@requires(ADMIN, OPERATOR)
async def acknowledge(request: web.Request, principal: Principal) -> web.Response:
    return await _handle(request, principal, "ack", await _body(request, "acknowledgement.schema.json",
                                                                 "acknowledgement"))


@requires(ADMIN, OPERATOR)
async def resolve(request: web.Request, principal: Principal) -> web.Response:
    return await _handle(request, principal, "resolve", await _body(request, "resolution.schema.json", "resolution"))


def setup_handling(app: web.Application) -> None:
    app.router.add_post("/v1/violations/{id}/ack", acknowledge)
    app.router.add_post("/v1/violations/{id}/resolve", resolve)
