"""Console benchmark (issue 16): the map page in Debian's headless Chromium with 5 000
vehicles, time to the first paint and to the whole fleet drawn, and frame times while
they all move (every vehicle a position every 10 s: 500 live messages a second).

The browser is measured alone: the page's own files (index, scripts, Leaflet from
node_modules) and the API's answers come from Playwright routes (a snapshot of 5 000
vehicles, the sample geofences, no violations; the live feed a routed WebSocket), so
neither the API nor PostGIS shares the two cores with it. Headless Chromium without a
GPU rasterises in software: a desktop browser with a GPU does better.

Run: `.venv/bin/python -m bench.console [--vehicles 5000] [--seconds 20]`.
"""
from __future__ import annotations

import argparse
import asyncio
import math
import mimetypes
import platform
import random
import statistics
import time
from datetime import datetime, timezone
from pathlib import Path

import orjson
from playwright.async_api import async_playwright

from tracker.api.page import CHECKOUT_ASSETS, LEAFLET, STATIC
from tracker.dev.scene import sample_geofences

ORIGIN = "http://console.bench"
ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update",
        "--no-first-run"]
WEST, SOUTH, EAST, NORTH = 121.70, 29.80, 122.00, 29.96


def rfc3339(ms: int) -> str:
    return datetime.fromtimestamp(ms / 1000, timezone.utc).isoformat(timespec="milliseconds").replace("+00:00", "Z")


class Fleet:
    def __init__(self, n: int, seed: int = 1) -> None:
        rng = random.Random(seed)
        self.plates = [f"浙B{i:05d}" for i in range(n)]
        self.lat = [rng.uniform(SOUTH, NORTH) for _ in range(n)]
        self.lon = [rng.uniform(WEST, EAST) for _ in range(n)]
        self.heading = [rng.uniform(0, 360) for _ in range(n)]

    def snapshot(self) -> dict:
        now = rfc3339(int(time.time() * 1000))
        return {"type": "FeatureCollection", "features": [
            {"type": "Feature", "id": p, "geometry": {"type": "Point", "coordinates": [self.lon[i], self.lat[i]]},
             "properties": {"plate": p, "carrier_id": f"C{i % 25:02d}", "ts": now, "speed_kmh": 40.0,
                            "heading_deg": self.heading[i], "status": "moving", "open_violations": []}}
            for i, p in enumerate(self.plates)]}

    def move(self, i: int) -> str:
        """Vehicle i 10 s (111 m at 40 km/h) further on: a live position message."""
        rad = math.radians(self.heading[i])
        self.lat[i] += 111 * math.cos(rad) / 111_320
        self.lon[i] += 111 * math.sin(rad) / 96_500
        if not (SOUTH < self.lat[i] < NORTH and WEST < self.lon[i] < EAST):
            self.heading[i] = (self.heading[i] + 180) % 360
        return orjson.dumps({"type": "position", "plate": self.plates[i], "carrier_id": f"C{i % 25:02d}",
                             "ts": rfc3339(int(time.time() * 1000)), "lat": self.lat[i], "lon": self.lon[i],
                             "speed_kmh": 40.0, "heading_deg": self.heading[i], "status": "moving"}).decode()


def file_answer(path: Path) -> dict:
    return {"status": 200, "body": path.read_bytes(),
            "headers": {"Content-Type": mimetypes.guess_type(path.name)[0] or "application/octet-stream"}}


async def run(vehicles: int, seconds: float) -> dict:
    fleet = Fleet(vehicles)
    snapshot = orjson.dumps(fleet.snapshot())
    fences = orjson.dumps({"type": "FeatureCollection", "features": sample_geofences()})
    leaflet = CHECKOUT_ASSETS / LEAFLET

    async def answer(route):
        url = route.request.url.removeprefix(ORIGIN)
        path = url.split("?")[0]
        if path == "/":
            await route.fulfill(**file_answer(STATIC / "index.html"))
        elif path == "/console/config.json":
            await route.fulfill(json={"basemap": None, "crs": "wgs84"})
        elif path == "/console/district.geojson":
            await route.fulfill(**file_answer(STATIC / "beilun_district.geojson"))
        elif path.startswith("/console/"):
            await route.fulfill(**file_answer(STATIC / "console" / path.removeprefix("/console/")))
        elif path.startswith("/assets/leaflet/"):
            await route.fulfill(**file_answer(leaflet / path.removeprefix("/assets/leaflet/")))
        elif path == "/v1/vehicles":
            await route.fulfill(body=b'{"type":"FeatureCollection","features":[]}' if "bbox=" in url else snapshot,
                                headers={"Content-Type": "application/geo+json"})
        elif path == "/v1/geofences":
            await route.fulfill(body=fences, headers={"Content-Type": "application/geo+json"})
        elif path == "/v1/violations":
            await route.fulfill(json={"items": [], "next": None})
        else:
            await route.fulfill(status=404, body=b"")

    sending: list[asyncio.Task] = []

    async def feed(ws):
        async def pump():
            i, per_tick = 0, vehicles // 100  # every vehicle every 10 s, in ticks of 0.1 s
            while True:
                for _ in range(per_tick):
                    ws.send(fleet.move(i % vehicles))
                    i += 1
                await asyncio.sleep(0.1)

        def on_message(message):
            ws.send(orjson.dumps({"type": "subscribed", "subscription": {}}).decode())
            sending.append(asyncio.create_task(pump()))
        ws.on_message(on_message)

    async with async_playwright() as pw:
        browser = await pw.chromium.launch(executable_path="/usr/bin/chromium", headless=True, args=ARGS)
        page = await browser.new_page(viewport={"width": 1440, "height": 900})
        await page.route(f"{ORIGIN}/**", answer)
        await page.route_web_socket("**/v1/live*", feed)
        started = time.perf_counter()
        await page.goto(f"{ORIGIN}/#token=bench")
        while not await page.evaluate(f"document.body.dataset.live === 'live' && state.vehicles.size === {vehicles}"):
            await asyncio.sleep(0.05)
        drawn_s = time.perf_counter() - started
        fcp = await page.evaluate("performance.getEntriesByName('first-contentful-paint')[0]?.startTime ?? null")
        await page.evaluate("""() => { window.__frames = []; let last = performance.now();
            const tick = (now) => { window.__frames.push(now - last); last = now; requestAnimationFrame(tick); };
            requestAnimationFrame(tick); }""")
        await asyncio.sleep(seconds)
        frames = await page.evaluate("window.__frames.slice(1)")
        moved = await page.evaluate("[...state.vehicles.values()].filter((v) => v.props.ts > '2000').length")
        for task in sending:
            task.cancel()
        await browser.close()
    frames.sort()
    return {"vehicles": vehicles, "first_contentful_paint_ms": round(fcp) if fcp else None,
            "fleet_drawn_s": round(drawn_s, 2), "frames": len(frames), "fps": round(len(frames) / seconds, 1),
            "frame_median_ms": round(statistics.median(frames), 1),
            "frame_p95_ms": round(frames[int(len(frames) * 0.95)], 1), "frame_max_ms": round(frames[-1], 1),
            "long_frames_over_50ms": sum(f > 50 for f in frames), "vehicles_shown": moved}


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--vehicles", type=int, default=5000)
    parser.add_argument("--seconds", type=float, default=20.0)
    args = parser.parse_args()
    print(f"{platform.node()} {platform.machine()}, live messages {args.vehicles / 10:.0f}/s")
    print(orjson.dumps(asyncio.run(run(args.vehicles, args.seconds)), option=orjson.OPT_INDENT_2).decode())


if __name__ == "__main__":
    main()
