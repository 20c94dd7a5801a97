"""Reading JSON bodies and writing JSON answers with orjson."""
from __future__ import annotations

from typing import Any

import orjson
from aiohttp import web

from tracker.api.context import SETTINGS
from tracker.api.problems import Problem


def json_bytes_response(data: Any, status: int = 200, content_type: str = "application/json") -> web.Response:
    return web.Response(body=orjson.dumps(data), status=status, content_type=content_type)


async def read_json(request: web.Request) -> Any:
    """The parsed body, or a 400/413 problem: the body is refused whole."""
    try:
        raw = await request.read()
    except web.HTTPRequestEntityTooLarge:
        raise Problem(413, f"body over the limit of {request.app[SETTINGS].max_body_bytes} bytes") from None
    if not raw:
        raise Problem(400, "the body is empty; a JSON document is expected")
    try:
        return orjson.loads(raw)
    except orjson.JSONDecodeError as exc:
        raise Problem(400, f"the body is not JSON: {exc}") from None


async def read_json_object(request: web.Request) -> dict:
    data = await read_json(request)
    if not isinstance(data, dict):
        raise Problem(400, "the body must be a JSON object")
    return data
