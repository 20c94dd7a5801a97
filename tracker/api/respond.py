"""Reading JSON bodies and writing JSON answers with orjson.

A body is read only after the caller is authenticated (handlers read it; the `requires`
decorator runs first), and aiohttp's own decompression is off (`tracker.api.server`),
so a compressed body costs nothing until then, and at most `max_body_bytes` of
inflated output after.
"""
from __future__ import annotations

import json
import zlib
from typing import Any

import orjson
from aiohttp import web

from tracker.api.context import SETTINGS
from tracker.api.problems import Problem

ENCODINGS = {"gzip": 16 + zlib.MAX_WBITS, "x-gzip": 16 + zlib.MAX_WBITS, "deflate": zlib.MAX_WBITS}
_KEY_SPACING = (b'" :', b'"\t:', b'"\n:', b'"\r:')


def json_bytes_response(data: Any, status: int = 200, content_type: str = "application/json") -> web.Response:
    return web.Response(body=orjson.dumps(data), status=status, content_type=content_type)


def _json_media(request: web.Request) -> None:
    """JSON bodies only: application/json or a +json type; none given is taken as JSON."""
    if "Content-Type" not in request.headers:
        return
    media = request.content_type
    if media != "application/json" and not (media.startswith("application/") and media.endswith("+json")):
        raise Problem(415, f"Content-Type {media[:60]!r} is not JSON: send application/json",
                      headers={"Accept": "application/json"})


def _inflated(raw: bytes, encoding: str, limit: int) -> bytes:
    """The body decoded, never more than `limit` bytes of output (a 4 GB bomb stops there)."""
    try:
        inflater = zlib.decompressobj(ENCODINGS[encoding])
        out = inflater.decompress(raw, limit + 1)
        if len(out) > limit or inflater.unconsumed_tail:
            raise Problem(413, f"the body inflates to more than the limit of {limit} bytes")
        if not inflater.eof:
            raise Problem(400, f"the {encoding} body is truncated")
        return out
    except zlib.error as exc:
        raise Problem(400, f"the body is not valid {encoding}: {exc}") from None


def _duplicate_keys(raw: bytes, data: Any) -> bool:
    """Does the text name a key twice in one object? orjson keeps the last silently, and
    another reader of the same body may keep the first. Counting `":` (every key ends so
    when no quote is escaped and no space precedes a colon) against the keys orjson kept
    is cheap next to parsing; other bodies go through the slower standard parser."""
    if b'\\"' not in raw and not any(s in raw for s in _KEY_SPACING):
        again = orjson.dumps(data)
        if b'\\"' not in again:
            return raw.count(b'":') != again.count(b'":')

    def pairs(items: list) -> dict:
        kept = dict(items)
        if len(kept) != len(items):
            raise KeyError("duplicate")
        return kept
    try:
        json.loads(raw, object_pairs_hook=pairs)
    except KeyError:
        return True
    return False


def strict_loads(raw: bytes | str) -> Any:
    """JSON as every entrance takes it: orjson, and a ValueError for a key named twice in
    one object (orjson.JSONDecodeError, also a ValueError, for what is not JSON)."""
    raw = raw.encode() if isinstance(raw, str) else raw
    data = orjson.loads(raw)
    if _duplicate_keys(raw, data):
        raise ValueError("the body names a key twice in one object")
    return data


async def read_json(request: web.Request) -> Any:
    """The parsed body, or a 400/413/415 problem: the body is refused whole."""
    _json_media(request)
    encoding = request.headers.get("Content-Encoding", "identity").strip().lower()
    if encoding not in ("identity", "", *ENCODINGS):
        raise Problem(415, f"Content-Encoding {encoding[:40]!r} is not supported: gzip, deflate or none",
                      headers={"Accept-Encoding": "gzip, deflate"})
    limit = request.app[SETTINGS].max_body_bytes
    try:
        raw = await request.read()
    except web.HTTPRequestEntityTooLarge:
        raise Problem(413, f"body over the limit of {limit} bytes") from None
    if encoding in ENCODINGS:
        raw = _inflated(raw, encoding, limit)
    if not raw:
        raise Problem(400, "the body is empty; a JSON document is expected")
    try:
        return strict_loads(raw)
    except orjson.JSONDecodeError as exc:
        raise Problem(400, f"the body is not JSON: {exc}") from None
    except ValueError as exc:
        raise Problem(400, str(exc)) from None


async def read_json_object(request: web.Request) -> dict:
    data = await read_json(request)
    if not isinstance(data, dict):
        raise Problem(400, "the body must be a JSON object")
    return data
