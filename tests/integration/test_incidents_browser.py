"""The incident desk in the console, in Debian's headless Chromium (as
test_console_browser.py): an operator opens an incident from a vehicle's panel and one
from a point on the map, sees the zones drawn with the sites, vehicles and responders
listed in Chinese, closes one, and reads the panel in English. Screenshots go to
test-artifacts/incidents/."""
from __future__ import annotations

import pytest

from geofence.gcj02 import gcj02_to_wgs84
from tests.integration.test_console_browser import ARGS, CHROMIUM, until_true
from tests.integration.test_console_browser import ARTIFACTS as CONSOLE_ARTIFACTS
from tests.integration.test_incidents import M_LAT, place_vehicle, site

pytestmark = [pytest.mark.integration, pytest.mark.browser]
ARTIFACTS = CONSOLE_ARTIFACTS.parent / "incidents"
playwright_api = pytest.importorskip("playwright.async_api")


@pytest.fixture
def settings(settings, database_alone):
    """A database of its own: the sites and incidents here must not reach other tests."""
    return settings.with_(database_url=database_alone)


@pytest.fixture
async def browser():
    async with playwright_api.async_playwright() as pw:
        chromium = await pw.chromium.launch(executable_path=CHROMIUM, headless=True, args=ARGS)
        yield chromium
        await chromium.close()


async def shot(page, name: str) -> None:
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    await page.screenshot(path=str(ARTIFACTS / f"{name}.png"))


async def test_incidents_in_the_console(api, fleet, browser):
    carrier = fleet.carriers[0]
    tanker, neighbour = fleet.plates[carrier]
    lat, lon = 29.90, 121.84
    await place_vehicle(api, tanker, carrier, lat, lon)
    await place_vehicle(api, neighbour, carrier, lat - 150 * M_LAT, lon)
    for sid, kind, name, north_m in (("sch", "school", "新碶测试学校", -200), ("kg", "kindergarten", "测试幼儿园", 250),
                                     ("fs1", "fire_station", "新碶消防救援站", 3000),
                                     ("eft", "enterprise_fire_team", "台塑企业消防队", -4000)):
        await api.json("PUT", f"/v1/sites/{sid}", api.admin_token, expect=201,
                       json=site(kind, name, lon, lat + north_m * M_LAT))
    operator = await api.token("operator")
    base = str(api.client.make_url("/")).rstrip("/")
    errors = []
    context = await browser.new_context(viewport={"width": 1440, "height": 900}, locale="zh-CN",
                                        timezone_id="Asia/Shanghai")
    page = await context.new_page()
    page.on("console", lambda m: errors.append(f"console {m.type}: {m.text}") if m.type == "error" else None)
    page.on("pageerror", lambda e: errors.append(f"page error: {e}"))
    await page.goto(f"{base}/#token={operator}")
    await page.wait_for_selector("body[data-live='live']", timeout=20_000)
    await until_true(page, f"state.vehicles.has({tanker!r})")

    # from the vehicle's panel: a chlorine leak in a north wind
    await page.evaluate(f"selectVehicle({tanker!r})")
    await page.wait_for_selector("#details:not([hidden])")
    await page.click("#d-incident")
    assert await page.text_content("#i-where") == tanker
    await page.select_option("#i-kind", "leak")
    await page.fill("#i-un", "1017")
    await page.select_option("#i-spill", "small")
    await page.fill("#i-wind-from", "0")
    await page.fill("#i-wind-speed", "3")
    await page.fill("#i-note", "罐体阀门泄漏")
    await page.click("#i-open")
    await page.wait_for_selector("#i-sites li")
    assert "新碶测试学校" in await page.text_content("#i-sites")
    assert "测试幼儿园" not in await page.text_content("#i-sites")  # upwind, outside
    assert neighbour in await page.text_content("#i-vehicles")
    assert "新碶消防救援站" in await page.text_content("#i-responders")
    assert "液氯" in await page.text_content("#i-current") and "下风向 180°" in await page.text_content("#i-current")
    assert await page.evaluate("desk.layer.getLayers().length") == 3  # protective, isolation, the point
    await shot(page, "01-chlorine-from-the-vehicle-zh")

    # from a point on the map: an LPG fire, with its fire circle
    await page.click("#i-new")
    assert await page.is_visible("#i-hint")
    box = await page.locator("#map").bounding_box()
    await page.mouse.click(box["x"] + box["width"] / 2, box["y"] + box["height"] / 2)
    await page.wait_for_selector("#incident-dialog[open]")
    await page.select_option("#i-kind", "fire")
    await page.fill("#i-un", "UN1075")
    await page.click("#i-open")
    await until_true(page, "desk.current && desk.current.kind === 'fire'")
    assert await page.evaluate("desk.layer.getLayers().length") == 4  # and the fire circle
    assert "火灾隔离区" in await page.text_content("#i-current")
    assert await page.evaluate("desk.current.zones.protective.distance_m") == 800  # the form starts afresh: large
    await until_true(page, "document.querySelectorAll('#i-list li').length === 2")
    await shot(page, "02-lpg-fire-from-a-point-zh")

    # a point picked on a GCJ-02 basemap goes to the API in WGS-84, as geofence/gcj02.py inverts it
    picked = await page.evaluate("(() => { const kept = state.crs; state.crs = 'gcj02';"
                                 " const found = toWgs84(29.9, 121.85); state.crs = kept; return found; })()")
    lon, lat = gcj02_to_wgs84(121.85, 29.9)
    assert picked == [pytest.approx(float(lat), abs=1e-8), pytest.approx(float(lon), abs=1e-8)]

    await page.click("#i-close")
    await until_true(page, "desk.current.status === 'closed'")
    assert "已结束" in await page.text_content("#i-current")
    _, closed = await api.json("GET", "/v1/incidents?status=closed", operator, expect=200)
    assert [i["kind"] for i in closed["items"]] == ["fire"]

    await page.goto(f"{base}/?lang=en")
    await page.wait_for_selector("body[data-live='live']", timeout=20_000)
    await page.click("#incidents-toggle")
    await page.wait_for_selector("#i-list li")
    await page.locator("#i-list li", has_text="leak").click()
    await page.wait_for_selector("#i-sites li")
    assert "Sites in the zones" in await page.text_content("#i-current")
    assert "school" in await page.text_content("#i-sites")
    await shot(page, "03-english")
    assert errors == [], errors
    await context.close()
