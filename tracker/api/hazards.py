"""GET/PUT /v1/hazards/{un_number}: a material's ERG figures, and the emergency bureau's
own figures that replace them for every incident computed afterwards (docs/incidents.md)."""
from __future__ import annotations

from aiohttp import web

from incidents.catalogue import Catalogue, load_catalogue
from incidents.hazard import HazardError, parse_hazard, un_key
from tracker.api.context import POOL, requires
from tracker.api.problems import Problem, error
from tracker.api.respond import json_bytes_response, read_json_object
from tracker.api.validate import check
from tracker.auth import ADMIN, AGENCY, OPERATOR, Principal, acting
from tracker.db import hazards


async def catalogue(conn) -> Catalogue:
    """The shipped catalogue with the bureau's figures over it, as stored now."""
    rows = await hazards.overrides(conn)
    return load_catalogue().with_overrides(rows) if rows else load_catalogue()


@requires(ADMIN, OPERATOR, AGENCY)
async def get_hazard(request: web.Request, principal: Principal) -> web.Response:
    un_number = request.match_info["un_number"]
    hazard = (await catalogue(request.app[POOL])).get(un_number)
    if hazard is None:
        raise Problem(404, f"UN{un_key(un_number)} is not in the catalogue")
    return json_bytes_response(hazard.as_json())


@requires(ADMIN)
async def put_hazard(request: web.Request, principal: Principal) -> web.Response:
    key = un_key(request.match_info["un_number"])
    body = check("hazard.schema.json", await read_json_object(request), "hazard")
    try:
        hazard = parse_hazard(body)
    except HazardError as exc:
        raise Problem(422, "the hazard figures are not usable", [error(str(exc))]) from None
    if hazard.un_number != key:
        raise Problem(422, "the body's un_number differs from the one in the path",
                      [error(f"must be {key}", field="un_number")])
    await hazards.put(request.app[POOL], key, body, acting(principal))
    return json_bytes_response(hazard.as_json())


def setup_hazards(app: web.Application) -> None:
    app.router.add_get("/v1/hazards/{un_number}", get_hazard)
    app.router.add_put("/v1/hazards/{un_number}", put_hazard)
