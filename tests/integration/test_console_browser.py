"""The console in Debian's headless Chromium (Playwright from PyPI, no browser download)
against a running stack: the API and a worker on the real PostGIS and broker.

Every request to another origin is refused and recorded; the page must make none. It
logs in from the address's fragment, draws vehicles and geofences, shows a geofence
named with HTML as text, handles an alarm (acknowledge, resolve) that the API then
reports, follows an alarm another operator handles (through the live feed), draws a
track, survives the live feed's loss (banner, then a resync) and logs no console error.
Screenshots go to test-artifacts/console/ (HAZMAT_TEST_ARTIFACTS).
"""
from __future__ import annotations

import os
import time
from pathlib import Path
from urllib.parse import urlsplit

import orjson
import pytest
from aiohttp import web

from streams.kafka import Publisher
from streams.rules.violations import OPENED, cloud_event, open_violation
from tests.client import ApiTestServer
from tests.waiting import until
from tracker.api.app import create_app
from tracker.api.context import POOL, SETTINGS
from tracker.api.live import LIVE
from tracker.api.page import STATIC, assets_dir
from tracker.auth import insert_token, new_token
from tracker.db.violations import upsert_violations, violation_row
from tracker.dev.scene import sample_geofences
from tracker.settings import Settings

pytestmark = [pytest.mark.integration, pytest.mark.browser]
CHROMIUM = "/usr/bin/chromium"
ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update",
        "--no-first-run"]
HOSTILE = "<img src=x onerror=document.title='x'>"
ARTIFACTS = Path(os.environ.get("HAZMAT_TEST_ARTIFACTS")
                 or Path(__file__).resolve().parents[2] / "test-artifacts") / "console"

playwright_api = pytest.importorskip("playwright.async_api")
if not Path(CHROMIUM).exists():
    pytest.skip("Debian's chromium is not installed (make test installs it as root)", allow_module_level=True)


@pytest.fixture
def settings(settings, database_alone):
    """This module's tests on a database of their own: the sample geofences they load
    would change what later tests' workers decide."""
    return settings.with_(database_url=database_alone)


def fix(plate: str, ts: int, lat: float, lon: float, speed: float, heading: float = 90.0) -> dict:
    return {"plate": plate, "ts": ts, "lat": lat, "lon": lon, "speed_kmh": speed, "heading_deg": heading}


@pytest.fixture
async def browser():
    async with playwright_api.async_playwright() as pw:
        chromium = await pw.chromium.launch(executable_path=CHROMIUM, headless=True, args=ARGS)
        yield chromium
        await chromium.close()


async def until_true(page, expression: str, timeout_s: float = 20.0) -> None:
    """Polls `expression` in the page (wait_for_function evaluates strings with eval, which
    the page's CSP forbids, as it should)."""
    async def check():
        return await page.evaluate(expression)
    await until(check, timeout_s, expression)


async def shot(page, name: str) -> None:
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    await page.screenshot(path=str(ARTIFACTS / f"{name}.png"))


async def test_the_console_in_a_browser(api, fleet, worker, browser, topics):
    carrier = fleet.carriers[0]
    speeder, parked = fleet.plates[carrier]
    other = fleet.plates[fleet.carriers[1]][0]
    operator = await api.token("operator")  # labelled "test operator"
    gateway = await api.token("gateway", carrier_id=carrier)
    gateway2 = await api.token("gateway", carrier_id=fleet.carriers[1])
    await api.json("PUT", "/v1/registry", api.admin_token, expect=200, json={
        "carriers": [{"id": carrier, "name": "<b onmouseover=alert(1)>宁波危运</b>"}], "vehicles": [], "drivers": []})
    for feature in sample_geofences():
        await api.json("PUT", f"/v1/geofences/{feature['id']}", api.admin_token,
                       json=feature)
    await api.json("PUT", "/v1/geofences/hostile", api.admin_token, json={
        "type": "Feature", "geometry": {"type": "Point", "coordinates": [121.70, 29.86]},
        "properties": {"kind": "filling_station", "name": HOSTILE, "radius_m": 300, "station_id": "X1"}})

    now = int(time.time() * 1000)
    # 90 km/h for 45 s outside any zone (limit 60): speeding; one parked; one more moving
    step = 90 / 3.6 * 15 / 96_000  # degrees of longitude in 15 s at 90 km/h, near 29.86° N
    await api.json("POST", "/v1/fixes", gateway, expect=202, json=[
        fix(speeder, now - 45_000 + i * 15_000, 29.86, 121.74 + i * step, 90.0) for i in range(4)] + [
        fix(parked, now - 30_000, 29.875, 121.80, 0.0), fix(parked, now - 1_000, 29.875, 121.80, 0.0)])
    await api.json("POST", "/v1/fixes", gateway2, expect=202, json=[fix(other, now - 2_000, 29.89, 121.86, 40.0)])

    async def speeding():
        _, page = await api.json("GET", f"/v1/violations?plate={speeder}&kind=speeding", operator, expect=200)
        return page["items"][0] if page["items"] else None
    alarm = await until(speeding, what="the worker opens the speeding violation")

    base = str(api.client.make_url("/")).rstrip("/")
    own = urlsplit(base).netloc
    foreign, errors = [], []
    context = await browser.new_context(viewport={"width": 1440, "height": 900}, locale="zh-CN",
                                        timezone_id="Asia/Shanghai")

    async def only_own_origin(route):
        host = urlsplit(route.request.url).netloc
        if host == own or route.request.url.startswith(("data:", "blob:")):
            await route.continue_()
        else:
            foreign.append(route.request.url)
            await route.abort()
    await context.route("**/*", only_own_origin)
    page = await context.new_page()
    page.on("console", lambda m: errors.append(f"console {m.type}: {m.text}") if m.type == "error" else None)
    page.on("pageerror", lambda e: errors.append(f"page error: {e}"))

    await page.goto(f"{base}/#token={operator}")
    await page.wait_for_selector("body[data-live='live']", timeout=20_000)
    assert "token" not in page.url  # read, then removed from the address bar
    assert await page.evaluate("sessionStorage.getItem('hazmat-token')") == operator
    await until_true(page, f"state.vehicles.has({speeder!r}) && state.vehicles.has({other!r})")
    assert await page.evaluate(f"state.vehicles.get({parked!r}).props.status") == "stopped"
    assert await page.text_content("h1") == "北仑区危化品运输车辆监管"
    assert await page.evaluate("state.fences.getLayers().length") == len(sample_geofences()) + 1
    # the station radius is drawn as a circle of its metres
    assert await page.evaluate("state.fences.getLayers().filter((l) => l instanceof L.Circle)"
                               ".map((l) => l.getRadius()).sort((a, b) => a - b)") == [150, 150, 200, 300]
    await shot(page, "01-map-zh")

    # vehicles move with the live feed, with the status the rules give
    moved = now + 15_000
    await api.json("POST", "/v1/fixes", gateway, expect=202, json=[
        fix(speeder, moved, 29.86, 121.74 + 4 * step, 90.0), fix(parked, moved, 29.875, 121.80, 0.0)])
    await until_true(page, f"state.vehicles.get({speeder!r}).lon > {121.74 + 3.5 * step}")
    statuses = await page.evaluate(f"[{speeder!r}, {parked!r}].map((p) => state.vehicles.get(p).props.status)")
    assert statuses == ["moving", "stopped"]

    # a geofence named with HTML shows as text and runs nothing
    await page.evaluate("state.fences.eachLayer((l) => { if (l.feature.id === 'hostile') l.openPopup(); })")
    popup = page.locator(".leaflet-popup-content")
    await popup.wait_for()
    assert HOSTILE in await popup.text_content()
    assert await popup.locator("img").count() == 0
    await shot(page, "02-hostile-geofence-as-text")
    assert await page.title() == "北仑区危化品运输车辆监管"
    await page.evaluate("state.map.closePopup()")

    # the alarm: listed in Chinese, selected, acknowledged, resolved
    row = page.locator(f"#alarms li[data-id='{alarm['violation_id']}']")
    await row.wait_for()
    assert "超速" in await row.text_content() and "未处理" in await row.text_content()
    await page.select_option("#f-severity", "low")
    await row.wait_for(state="detached")
    await page.select_option("#f-severity", alarm["severity"])
    await row.wait_for()
    await row.click()
    await page.wait_for_selector("#details:not([hidden])")
    assert await page.text_content("#d-plate") == speeder
    assert "<b onmouseover=alert(1)>宁波危运</b>" in await page.text_content("#d-facts")
    await row.locator("button.ack").click()
    await row.locator(".badge.acked").wait_for()
    _, acked = await api.json("GET", f"/v1/violations/{alarm['violation_id']}", operator, expect=200)
    assert (acked["handling"]["state"], acked["handling"]["acked_by"]) == ("acked", "test operator")
    await row.locator("button.resolve").click()
    await page.select_option("#disposition", "handled")
    await page.fill("#resolve-note", "已电话提醒驾驶员减速")
    await shot(page, "03-resolve-dialog")
    await page.click("#resolve-ok")
    await row.locator(".badge.resolved").wait_for()
    _, resolved = await api.json("GET", f"/v1/violations/{alarm['violation_id']}", operator, expect=200)
    assert resolved["handling"]["state"] == "resolved" and resolved["handling"]["disposition"] == "handled"
    assert [n["text"] for n in resolved["handling"]["notes"]] == ["已电话提醒驾驶员减速"]

    # an alarm another operator handles: the page learns it from the live feed (the
    # CloudEvent the outbox relay publishes), a high one flashing as it comes
    other_alarm = open_violation("no_stopping", parked, carrier, now - 60_000, 29.875, 121.80)
    # the feed is live (a reconnection in between would read the alarm by its resync: no flash)
    await until_true(page, "document.body.dataset.live === 'live'")
    async with api.client.app[POOL].acquire() as conn:
        await upsert_violations(conn, [violation_row(other_alarm)])
    publisher = Publisher(api.client.app[SETTINGS].kafka_bootstrap)
    try:
        await publisher.publish(topics.violations, [(parked.encode(), orjson.dumps(cloud_event(OPENED, other_alarm)))])
    finally:
        await publisher.close()
    other_row = page.locator(f"#alarms li[data-id='{other_alarm.violation_id}']")
    await other_row.locator(".badge.new").wait_for()
    assert "禁停区域停车" in await other_row.text_content()
    await until_true(page, f"document.querySelector('#alarms li[data-id=\"{other_alarm.violation_id}\"]')"
                           ".classList.contains('flash')")  # a new high-severity alarm flashes
    await page.evaluate("listAlarms()")  # as the next live event redraws the list: it goes on flashing
    assert await page.evaluate(f"document.querySelector('#alarms li[data-id=\"{other_alarm.violation_id}\"]')"
                               ".classList.contains('flash')")
    assert await page.evaluate(f"state.alarmed.has({parked!r})")
    await api.json("POST", f"/v1/violations/{other_alarm.violation_id}/ack", operator, expect=200,
                   json={"note": "另一位值班员"})
    await other_row.locator(".badge.acked").wait_for(timeout=20_000)

    # the vehicle's track, with its start and end
    await page.click("#t-show")
    await page.wait_for_selector("#t-play:not([hidden])")
    assert "第 1 / 5 点" in await page.text_content("#t-point")
    await page.click("#t-run")  # playback, a point every 200 ms
    await page.locator("#t-point", has_text="第 5 / 5 点").wait_for(timeout=5_000)
    await page.fill("#t-slider", "1")
    assert "第 2 / 5 点" in await page.text_content("#t-point")
    await shot(page, "04-alarm-handled-and-track")

    # a vehicle with one fix: found by its plate, its track one distinct marker, not a pin
    await page.fill("#plate", other)
    await page.click("#search button")
    await until_true(page, f"document.getElementById('d-plate').textContent === {other!r}")
    await page.click("#t-show")
    await page.locator(".leaflet-tooltip", has_text="仅一个定位点").wait_for()
    assert "第 1 / 1 点" in await page.text_content("#t-point")
    await shot(page, "05-one-fix-track")
    await page.click("#t-clear")
    await page.fill("#plate", "")

    # the live feed lost: a banner, then a reconnection and a full resync that shows what
    # happened meanwhile (a fix the page never got live: each reconnection is dropped again
    # until the worker has stored that fix, so the last resync must have read it)
    synced = int(await page.evaluate("document.body.dataset.synced"))
    feed = api.client.app[LIVE]

    def drop_all() -> None:
        for client in list(feed.clients):
            client.drop("test: the feed goes away")
    drop_all()
    await page.wait_for_selector("#banner:not([hidden])", timeout=10_000)
    assert "实时连接已断开" in await page.text_content("#banner")
    await shot(page, "06-disconnected-banner")
    await api.json("POST", "/v1/fixes", gateway2, expect=202,
                   json=[fix(other, int(time.time() * 1000), 29.8915, 121.86, 40.0, heading=0.0)])

    async def stored_while_away():
        drop_all()
        _, vehicles = await api.json("GET", f"/v1/vehicles?carrier_id={fleet.carriers[1]}", operator, expect=200)
        return any(f["id"] == other and f["geometry"]["coordinates"][1] == 29.8915 for f in vehicles["features"])
    await until(stored_while_away, 20, "the worker stores the fix sent while the page was away")
    drop_all()
    await page.wait_for_selector("body[data-live='live']", timeout=40_000)
    assert int(await page.evaluate("document.body.dataset.synced")) > synced
    assert await page.is_hidden("#banner")
    assert await page.evaluate(f"state.vehicles.get({other!r}).lat") == 29.8915
    await shot(page, "07-reconnected")

    await page.goto(f"{base}/?lang=en")
    await page.wait_for_selector("body[data-live='live']", timeout=20_000)
    assert await page.text_content("#alarm-panel h2 span") == "Alarms"
    await shot(page, "08-english")

    assert foreign == [], foreign
    assert errors == [], errors
    await context.close()


# a 1x1 PNG tile
TILE = bytes.fromhex("89504e470d0a1a0a0000000d49484452000000010000000108060000001f15c489"
                     "0000000d49444154789c6360f8cfc0f01f0005000201e2214bc40000000049454e44ae426082")


async def test_with_a_basemap_tiles_come_from_its_origin_only(aiohttp_client, aiohttp_server, settings, browser):
    """HAZMAT_BASEMAP_URL set: the tiles come from that origin (the CSP lets them in), and
    nothing else leaves the API's origin."""
    async def tile(request: web.Request) -> web.Response:
        return web.Response(body=TILE, content_type="image/png")
    tiles = web.Application()
    tiles.router.add_get("/tiles/{z}/{x}/{y}.png", tile)
    tile_server = await aiohttp_server(tiles)
    tile_origin = f"127.0.0.1:{tile_server.port}"
    url = f"http://{tile_origin}/tiles/{{z}}/{{x}}/{{y}}.png"
    client = await aiohttp_client(ApiTestServer(create_app(settings.with_(basemap_url=url, basemap_crs="wgs84"))))
    token = new_token()
    await insert_token(client.app[POOL], token, "operator", "test operator")
    base = str(client.make_url("/")).rstrip("/")
    own = urlsplit(base).netloc
    seen, errors = [], []
    context = await browser.new_context(viewport={"width": 1280, "height": 800}, locale="zh-CN")

    async def record(route):
        host = urlsplit(route.request.url).netloc
        seen.append(host)
        if host in (own, tile_origin):
            await route.continue_()
        else:
            await route.abort()
    await context.route("**/*", record)
    page = await context.new_page()
    page.on("console", lambda m: errors.append(f"console {m.type}: {m.text}") if m.type == "error" else None)
    page.on("pageerror", lambda e: errors.append(f"page error: {e}"))
    await page.goto(f"{base}/#token={token}")
    await page.wait_for_selector("body[data-live='live']", timeout=20_000)
    await until_true(page, "[...document.querySelectorAll('img.leaflet-tile-loaded')].length > 0")
    assert set(seen) == {own, tile_origin}
    assert await page.evaluate("state.crs") == "wgs84"
    await shot(page, "09-with-a-basemap")
    assert errors == [], errors
    await context.close()


async def test_without_leaflet_the_page_says_so(api, browser):
    """A page whose map library did not load explains it instead of staying blank."""
    context = await browser.new_context(locale="zh-CN")
    await context.route("**/assets/leaflet/**", lambda route: route.abort())
    page = await context.new_page()
    await page.goto(str(api.client.make_url("/")))
    await page.wait_for_selector("#error:not([hidden])", timeout=10_000)
    assert "Leaflet" in await page.text_content("#error-text") and "npm ci" in await page.text_content("#error-text")
    await shot(page, "10-no-leaflet")
    await context.close()


@pytest.fixture
async def console_files(aiohttp_server):
    """The console's files alone, as the API serves them (no API behind them)."""
    async def index(request: web.Request) -> web.FileResponse:
        return web.FileResponse(STATIC / "index.html")

    async def config(request: web.Request) -> web.Response:
        return web.json_response({"basemap": None, "crs": "wgs84"})

    async def district(request: web.Request) -> web.FileResponse:
        return web.FileResponse(STATIC / "beilun_district.geojson")
    app = web.Application()
    app.router.add_get("/", index)
    app.router.add_get("/console/config.json", config)
    app.router.add_get("/console/district.geojson", district)
    app.router.add_static("/console/", STATIC / "console")
    app.router.add_static("/assets/leaflet/", assets_dir(Settings()))
    return await aiohttp_server(app)


async def test_every_open_violation_is_read_page_by_page(browser, console_files):
    """More open violations than a page holds: the console follows `next` to the end. The
    API is routed here (its paging is tested in test_violation_queries)."""
    pages = {None: ("c1", 0), "c1": ("c2", 1000), "c2": (None, 2000)}
    asked = []

    def violation(n: int) -> dict:
        v = open_violation("speeding", f"浙B{n:05d}", "C1", 1_795_800_000_000 + n * 1000, 29.9, 121.8)
        return {**v.wire(), "handling": {"state": "new", "acked_by": None, "acked_at": None, "resolved_by": None,
                                  "resolved_at": None, "disposition": None, "notes": []}}

    async def answer(route):
        url = urlsplit(route.request.url)
        query = dict(p.split("=", 1) for p in url.query.split("&") if p)
        if url.path == "/v1/violations" and query.get("status") == "open":
            asked.append(query.get("cursor"))
            following, first = pages[query.get("cursor")]
            count = 1000 if following else 234
            await route.fulfill(json={"items": [violation(first + i) for i in range(count)], "next": following})
        elif url.path.startswith("/v1/"):
            body = ({"type": "FeatureCollection", "features": []} if url.path != "/v1/violations"
                    else {"items": [], "next": None})
            await route.fulfill(json=body)
        else:
            await route.continue_()

    async def live(ws):
        ws.on_message(lambda message: ws.send(orjson.dumps({"type": "subscribed", "subscription": {}}).decode()))

    context = await browser.new_context()
    page = await context.new_page()
    try:
        await page.route("**/v1/**", answer)
        await page.route_web_socket("**/v1/live*", live)
        await page.goto(str(console_files.make_url("/#token=t")))
        await page.wait_for_selector("body[data-live='live']", timeout=20_000)
        assert asked == [None, "c1", "c2"]
        assert await page.evaluate("[...state.violations.values()].filter((v) => v.status === 'open').length") == 2234
        assert await page.text_content("#alarm-count") == "(300 / 2234)"
    finally:
        await context.close()


async def test_checkpoints_reads_sos_and_texts_in_the_console(api, fleet, worker, browser, topics):
    """The signals hooks (console/signals.js): checkpoints on the map, a vehicle's reads on
    its track, an SOS that rings and stays pinned until acknowledged, a text to the driver."""
    from tests.members import member_running
    from tracker.workers.reads import ReadWorker

    carrier = fleet.carriers[0]
    plate = fleet.plates[carrier][0]
    operator = await api.token("operator")
    gateway = await api.token("gateway", carrier_id=carrier)
    phone = "13" + str(int(time.time() * 1000))[-9:]
    await api.json("PUT", "/v1/registry", api.admin_token, expect=200, json={"carriers": [], "drivers": [], "vehicles": [
        {"plate": plate, "carrier_id": carrier, "tank_capacity_kg": 30000, "hazard_classes": ["3"],
         "permit_valid_until": "2030-01-01", "tank_inspection_valid_until": "2030-01-01", "terminal_phone": phone}]})
    from tracker.db import terminals
    await terminals.register(api.client.app[POOL], phone, plate, terminals.hash_code("code"), "2013", None)  # (0x0100)
    gate = {"type": "Feature", "geometry": {"type": "Point", "coordinates": [121.80, 29.925]},
            "properties": {"name": "霞浦化工区南门卡口", "road": "霞浦化工区南门", "direction_deg": 0}}
    await api.json("PUT", "/v1/checkpoints/bl-gate-xiapu", api.admin_token, expect=201, json=gate)
    await api.json("PUT", "/v1/checkpoints/bl-gate-far", api.admin_token, expect=201, json={
        **gate, "geometry": {"type": "Point", "coordinates": [121.90, 29.92]}, "properties": {"name": "青峙西门卡口"}})
    now = int(time.time() * 1000)
    await api.json("POST", "/v1/fixes", gateway, expect=202, json=[
        fix(plate, now - 600_000 + i * 60_000, 29.90 + i * 0.0025, 121.80, 40.0, 0.0) for i in range(10)])
    async with member_running(ReadWorker, api.client.app[SETTINGS]):
        await api.json("POST", "/v1/plate-reads", api.admin_token, expect=202, json=[
            {"id": "R1", "checkpoint_id": "bl-gate-xiapu", "plate": plate, "ts": now - 60_000, "confidence": 0.96},
            {"id": "R2", "checkpoint_id": "bl-gate-far", "plate": plate, "ts": now - 300_000, "confidence": 0.93}])

        async def stored():
            rows = await api.client.app[POOL].fetch("SELECT matched FROM plate_reads WHERE plate = $1", plate)
            return len(rows) == 2 or None
        await until(stored, 30, "the reads stored")

    base = str(api.client.make_url("/")).rstrip("/")
    errors = []
    context = await browser.new_context(viewport={"width": 1440, "height": 900}, locale="zh-CN",
                                        timezone_id="Asia/Shanghai")
    page = await context.new_page()
    page.on("console", lambda m: errors.append(f"console {m.type}: {m.text}") if m.type == "error" else None)
    page.on("pageerror", lambda e: errors.append(f"page error: {e}"))
    await page.goto(f"{base}/#token={operator}")
    await page.wait_for_selector("body[data-live='live']", timeout=20_000)
    await until_true(page, "signals.checkpoints.size === 2")
    assert await page.locator(".leaflet-marker-icon.checkpoint").count() == 2
    assert await page.locator(".legend .swatch.checkpoint").count() == 1

    # an SOS comes in: the console rings and pins it until someone acknowledges it
    sos = open_violation("sos", plate, carrier, now - 5_000, 29.92, 121.80, details={"speed_kmh": 0})
    async with api.client.app[POOL].acquire() as conn:
        await upsert_violations(conn, [violation_row(sos)])
    publisher = Publisher(api.client.app[SETTINGS].kafka_bootstrap)
    try:
        await publisher.publish(topics.violations, [(plate.encode(), orjson.dumps(cloud_event(OPENED, sos)))])
    finally:
        await publisher.close()
    await page.wait_for_selector("#sos-pin:not([hidden])", timeout=20_000)
    assert "紧急报警" in await page.text_content("#sos-pin") and plate in await page.text_content("#sos-pin")
    assert await page.evaluate("signals.ringTimer !== null")
    await page.click("#sos-pin button:not(.ack)")  # locate: the vehicle's panel opens
    await page.wait_for_selector("#details:not([hidden])")
    await page.wait_for_selector("#m-send")
    await page.click("#t-show")
    await page.wait_for_selector("#t-play:not([hidden])")
    await page.locator("#t-reads", has_text="本时段卡口抓拍 2 次").wait_for()
    await page.fill("#m-text", "请立即停车，报告所在位置")
    await page.click("#m-send")
    await page.locator("#m-history li", has_text="请立即停车").wait_for()
    assert await page.text_content("#m-result") == "排队中"  # its terminal is not connected
    await shot(page, "09-sos-pinned-reads-and-text")
    await page.click("#sos-pin button.ack")
    await page.wait_for_selector("#sos-pin", state="hidden")
    assert await page.evaluate("signals.ringTimer") is None
    _, acked = await api.json("GET", f"/v1/violations/{sos.violation_id}", operator, expect=200)
    assert acked["handling"]["state"] == "acked"
    _, listing = await api.json("GET", f"/v1/terminals/{phone}/messages", operator, expect=200)
    assert [m["text"] for m in listing["items"]] == ["请立即停车，报告所在位置"]
    await shot(page, "10-sos-acknowledged")
    await page.goto(f"{base}/?lang=en")
    await page.wait_for_selector("body[data-live='live']", timeout=20_000)
    await page.fill("#plate", plate)
    await page.click("#search button")
    await page.wait_for_selector("#m-send")
    assert await page.text_content("#m-send") == "Send" and "SOS" in await page.text_content("#d-violations")
    await shot(page, "11-signals-english")
    assert errors == [], errors
    await context.close()
