"""GET / and the files it loads: all from this origin, with the headers that keep the
page safe; the basemap and the district outline in the page's crs."""
from __future__ import annotations

import pytest

from geofence.gcj02 import wgs84_to_gcj02
from tests.client import Api, ApiTestServer
from tracker.api.app import create_app

pytestmark = pytest.mark.integration


async def test_the_page_is_served_with_its_policy(api):
    response = await api.call("GET", "/")
    assert response.status == 200 and response.headers["Content-Type"].startswith("text/html")
    policy = response.headers["Content-Security-Policy"]
    assert "script-src 'self';" in policy and "img-src 'self' data:;" in policy and "default-src 'none'" in policy
    assert response.headers["Referrer-Policy"] == "no-referrer"
    assert response.headers["X-Content-Type-Options"] == "nosniff"
    for path, media in [("/assets/leaflet/leaflet.js", "javascript"), ("/assets/leaflet/leaflet.css", "text/css"),
                        ("/console/console.js", "javascript"), ("/console/console.css", "text/css"),
                        ("/console/i18n.js", "javascript"), ("/console/api.js", "javascript")]:
        asset = await api.call("GET", path)
        assert asset.status == 200 and media in asset.headers["Content-Type"], path
        assert asset.headers["X-Content-Type-Options"] == "nosniff"
    _, config = await api.json("GET", "/console/config.json", expect=200)
    assert config == {"basemap": None, "crs": "wgs84"}
    assert (await api.call("GET", "/console/../schemas/openapi.json")).status == 404


async def test_a_configured_basemap_is_announced_and_allowed(aiohttp_client, settings):
    url = "https://webrd0{s}.is.autonavi.com/appmaptile?x={x}&y={y}&z={z}"
    client = await aiohttp_client(ApiTestServer(create_app(settings.with_(basemap_url=url, basemap_crs="gcj02"))))
    api = Api(client, "")
    _, config = await api.json("GET", "/console/config.json", expect=200)
    assert config == {"basemap": {"url": url, "crs": "gcj02"}, "crs": "gcj02"}
    policy = (await api.call("GET", "/")).headers["Content-Security-Policy"]
    assert "img-src 'self' data: https://*.is.autonavi.com;" in policy and "script-src 'self';" in policy
    _, wgs = await api.json("GET", "/console/district.geojson", expect=200)
    _, gcj = await api.json("GET", "/console/district.geojson?crs=gcj02", expect=200)
    lon, lat = wgs["geometry"]["coordinates"][0][0]
    moved = wgs84_to_gcj02(lon, lat)
    assert gcj["geometry"]["coordinates"][0][0] == pytest.approx([float(moved[0]), float(moved[1])], abs=1e-9)
