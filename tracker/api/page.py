"""GET /: the safety office's console, and the files it loads, all from this origin.

The page is static HTML; its script and styles are files of their own under /console/
(no inline script, no inline handlers), Leaflet comes from the npm package installed at
build time (`npm ci`) under /assets/leaflet/, and /console/config.json tells the page
its basemap. The Content-Security-Policy lets scripts come from this origin only and
images from the basemap's origin only when one is configured, so the page contacts no
other origin unless HAZMAT_BASEMAP_URL says so.
"""
from __future__ import annotations

import logging
from pathlib import Path
from urllib.parse import urlsplit

import orjson
from aiohttp import web

from geofence.gcj02 import points_in
from tracker.api.context import SETTINGS
from tracker.api.query import parse_crs
from tracker.api.respond import json_bytes_response
from tracker.settings import Settings

log = logging.getLogger(__name__)
STATIC = Path(__file__).resolve().parent.parent / "static"
PAGE = STATIC / "index.html"
CHECKOUT_ASSETS = Path(__file__).resolve().parents[2] / "node_modules"
LEAFLET = "leaflet/dist"


def basemap_origin(url: str | None) -> str | None:
    """The CSP source of a tile URL template: `{s}` subdomains become a wildcard."""
    if not url:
        return None
    parts = urlsplit(url.replace("{s}", "a"))
    host = urlsplit(url).netloc
    if "{" in host:
        labels = host.split(".")
        host = ".".join(["*"] + labels[next(i for i, label in enumerate(labels) if "{" in label) + 1:])
    return f"{parts.scheme}://{host}"


def content_security_policy(settings: Settings) -> str:
    images = " ".join(filter(None, ["'self'", "data:", basemap_origin(settings.basemap_url)]))
    return ("default-src 'none'; script-src 'self'; style-src 'self'; connect-src 'self'; "
            f"img-src {images}; font-src 'self'; base-uri 'none'; form-action 'self'; frame-ancestors 'none'")


async def console_page(request: web.Request) -> web.FileResponse:
    return web.FileResponse(PAGE, headers={
        "Content-Type": "text/html; charset=utf-8",
        "Content-Security-Policy": content_security_policy(request.app[SETTINGS]),
        "Referrer-Policy": "no-referrer",
        "Cache-Control": "no-cache",
    })


async def console_config(request: web.Request) -> web.Response:
    settings = request.app[SETTINGS]
    basemap = {"url": settings.basemap_url, "crs": settings.basemap_crs} if settings.basemap_url else None
    return json_bytes_response({"basemap": basemap, "crs": settings.basemap_crs if basemap else "wgs84"})


async def district(request: web.Request) -> web.Response:
    """The district's outline (approximate) in the crs the page draws in."""
    crs = parse_crs(request.rel_url.query.get("crs"))
    feature = orjson.loads((STATIC / "beilun_district.geojson").read_bytes())
    ring = feature["geometry"]["coordinates"][0]
    feature["geometry"]["coordinates"] = [points_in(crs, [p[0] for p in ring], [p[1] for p in ring])]
    return json_bytes_response(feature, content_type="application/geo+json")


def assets_dir(settings: Settings) -> Path:
    return (settings.console_assets or CHECKOUT_ASSETS) / LEAFLET


def setup_page(app: web.Application) -> None:
    settings = app[SETTINGS]
    app.router.add_get("/", console_page)
    app.router.add_get("/console/config.json", console_config)
    app.router.add_get("/console/district.geojson", district)
    app.router.add_static("/console/", STATIC / "console")
    leaflet = assets_dir(settings)
    if leaflet.is_dir():
        app.router.add_static("/assets/leaflet/", leaflet)
    else:  # the page says so too (it finds no `L`)
        log.warning("Leaflet is not installed at %s: run `make` (npm ci) or set HAZMAT_CONSOLE_ASSETS; "
                    "the console cannot draw its map", leaflet)
