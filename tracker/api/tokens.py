"""POST /v1/tokens: the admin issues tokens; the secret is shown once, only its hash is kept."""
from __future__ import annotations

from aiohttp import web

from tracker.api.context import POOL, requires
from tracker.api.problems import Problem, error
from tracker.api.respond import json_bytes_response, read_json_object
from tracker.api.validate import check
from tracker.auth import ADMIN, AGENCY, CAMERA, GATEWAY, STATION, Principal, insert_token, new_token
from tracker.db import checkpoints

# role -> the binding field it needs; other roles take none
BINDING = {GATEWAY: "carrier_id", STATION: "station_id", AGENCY: "agency", CAMERA: "checkpoint_id"}


@requires(ADMIN)
async def post_token(request: web.Request, principal: Principal) -> web.Response:
    body = check("token_request.schema.json", await read_json_object(request), "token request")
    role = body["role"]
    needed = BINDING.get(role)
    problems = [
        error(f"a {role} token is not bound to a {field}", field=field)
        for field in BINDING.values() if field in body and field != needed
    ]
    if needed and needed not in body:
        problems.append(error(f"a {role} token needs {needed}", field=needed))
    pool = request.app[POOL]
    if role == GATEWAY and "carrier_id" in body and not await pool.fetchval(
            "SELECT 1 FROM carriers WHERE id = $1", body["carrier_id"]):
        problems.append(error(f"unknown carrier {body['carrier_id']!r}: PUT it in /v1/registry first", field="carrier_id"))
    if role == CAMERA and "checkpoint_id" in body and not await checkpoints.exists(pool, body["checkpoint_id"]):
        problems.append(error(f"unknown checkpoint {body['checkpoint_id']!r}: PUT it in /v1/checkpoints first",
                              field="checkpoint_id"))
    if problems:
        raise Problem(422, "the token request is inconsistent", problems)
    token = new_token()
    binding = {field: body.get(field) for field in BINDING.values()}
    token_id = await insert_token(pool, token, role, body["label"], **binding)
    return json_bytes_response({"id": token_id, "token": token, "role": role, "label": body["label"], **binding}, 201)


def setup_tokens(app: web.Application) -> None:
    app.router.add_post("/v1/tokens", post_token)
