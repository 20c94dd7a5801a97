"""GET /: the safety office's map page (static; it asks for a token and then reads
/v1/geofences, /v1/vehicles, /v1/violations and /v1/live in GCJ-02)."""
from __future__ import annotations

from pathlib import Path

from aiohttp import web

PAGE = Path(__file__).resolve().parent.parent / "static" / "map.html"


async def map_page(request: web.Request) -> web.FileResponse:
    return web.FileResponse(PAGE, headers={"Content-Type": "text/html; charset=utf-8"})


def setup_page(app: web.Application) -> None:
    app.router.add_get("/", map_page)
