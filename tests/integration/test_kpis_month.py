"""A generated month of a small fleet (random gaps, jumps that break the track, fixes too
fast to qualify, refused fixes, drifts, offline displacements, withdrawn violations,
vehicles silent for the month or for good) through GET /v1/reports/kpis, against the
same figures counted independently here in Python, per carrier and for the district."""
from __future__ import annotations

import math
import random
from datetime import datetime, timedelta, timezone

import pytest

from streams.rules.violations import open_violation, withdraw_violation
from tests import stack
from tests.client import Api, ApiTestServer
from tracker.api.app import create_app
from tracker.api.context import POOL
from tracker.auth import ADMIN, insert_token, new_token
from tracker.db.batches import BatchResult, write_batch
from tracker.db.violations import violation_row

pytestmark = pytest.mark.integration
R = 6_371_008.7714  # ST_DistanceSphere's sphere
LOCAL = timezone(timedelta(hours=8))
START = datetime(2026, 10, 1, tzinfo=LOCAL)
END = datetime(2026, 11, 1, tzinfo=LOCAL)
CARRIERS = ["MA", "MB", "MC"]


def ms(t: datetime) -> int:
    return int(t.timestamp() * 1000)


def sphere_m(lat1, lon1, lat2, lon2) -> float:
    p1, p2 = math.radians(lat1), math.radians(lat2)
    a = math.sin((p2 - p1) / 2) ** 2 + math.cos(p1) * math.cos(p2) * math.sin(math.radians(lon2 - lon1) / 2) ** 2
    return 2 * R * math.asin(math.sqrt(min(1.0, a)))


def generate(rng: random.Random):
    plates = {c: [f"浙B{c}{n:03d}" for n in range(4)] for c in CARRIERS}
    fixes, dead, violations = [], [], []
    for c, ps in plates.items():
        for k, plate in enumerate(ps):
            if k == 3 and c == "MC":
                continue  # never reports
            lat, lon = 29.9 + rng.uniform(-0.05, 0.05), 121.8 + rng.uniform(-0.05, 0.05)
            first_day = -3 if k == 2 else 0  # one vehicle a carrier reports in September only
            last_day = 0 if k == 2 else 31
            for day in range(first_day, last_day):
                t = START + timedelta(days=day, hours=rng.randint(0, 12))
                for _ in range(rng.randint(5, 40)):
                    t += timedelta(seconds=rng.choice([30, 60, 120, 240, 600, 1800]))  # some break the track
                    jump = rng.random() < 0.03
                    lat += rng.uniform(-0.05, 0.05) if jump else rng.uniform(-0.004, 0.004)
                    lon += rng.uniform(-0.05, 0.05) if jump else rng.uniform(-0.004, 0.004)
                    speed = rng.choice([0.0, 30.0, 55.0, 80.0, 170.0 if rng.random() < 0.05 else 60.0])
                    late_receipt = 600_000 if rng.random() < 0.02 else 2000  # received 10 min later: fine
                    fixes.append((plate, ms(t), lat, lon, speed, rng.uniform(0, 359), None, 0, "http", ms(t) + late_receipt))
                for _ in range(rng.choice([0, 0, 1, 3])):
                    dead.append((t + timedelta(minutes=rng.randint(-600, 600)), plate, rng.random() < 0.8))
                if rng.random() < 0.2:
                    kind = rng.choice(["gps_jump", "offline_displacement", "speeding"])
                    violations.append(open_violation(kind, plate, c, ms(t), lat, lon, severity="high"))
                if rng.random() < 0.05:
                    violations.append(withdraw_violation(open_violation("offline", plate, c, ms(t) + 1, lat, lon), "x"))
    dead += [(START + timedelta(days=d), None, True) for d in (-1, 2, 40)]  # unknown plates
    return plates, fixes, dead, violations


def reference(plates, fixes, dead, violations, carrier) -> dict:
    """The figures' numerators and denominators, counted straight from the generated rows."""
    mine = {p for c, ps in plates.items() if carrier in (None, c) for p in ps}
    lo, hi = ms(START), ms(END)
    in_month = sorted((f for f in fixes if f[0] in mine and lo <= f[1] < hi), key=lambda f: (f[0], f[1]))
    qualified = sum(1 for f in in_month if f[1] <= f[9] + 300_000 and 0 <= f[4] <= 160)
    mileage = continuous = 0.0
    for a, b in zip(in_month, in_month[1:]):
        if a[0] == b[0]:
            d = sphere_m(a[2], a[3], b[2], b[3])
            mileage += d
            continuous += d if b[1] - a[1] <= 300_000 and d <= 5000 else 0
    refused = sum(1 for t, p, is_fix in dead if is_fix and START <= t < END and (p in mine or (carrier is None)))
    counted = [v for v in violations if v["plate"] in mine and lo <= ms(datetime.fromisoformat(v["started_at"])) < hi
               and not v["details"].get("withdrawn")]
    online = {f[0] for f in in_month}
    return {"registered": len(mine), "connected": len({f[0] for f in fixes if f[0] in mine and f[1] < hi}),
            "online": len(online), "records": len(in_month), "qualified": qualified, "received": len(in_month) + refused,
            "km": mileage / 1000, "continuous_km": continuous / 1000,
            "drifting": len({v["plate"] for v in counted if v["kind"] == "gps_jump"}),
            "displacements": sum(1 for v in counted if v["kind"] == "offline_displacement"), "alarms": len(counted)}


@pytest.fixture
def month_db(pg_server):
    with stack.fresh_database(pg_server) as url:
        yield url


async def test_a_generated_month_matches_an_independent_count(aiohttp_client, settings, month_db):
    client = await aiohttp_client(ApiTestServer(create_app(settings.with_(database_url=month_db))))
    pool, token = client.app[POOL], new_token()
    await insert_token(pool, token, ADMIN, "test admin")
    api = Api(client, token)
    plates, fixes, dead, violations = generate(random.Random(17))
    await api.json("PUT", "/v1/registry", token, expect=200, json={
        "carriers": [{"id": c, "name": c} for c in CARRIERS],
        "vehicles": [{"plate": p, "carrier_id": c, "tank_capacity_kg": 30000, "hazard_classes": ["3"],
                      "permit_valid_until": "2030-01-01", "tank_inspection_valid_until": "2030-01-01"}
                     for c, ps in plates.items() for p in ps]})
    violations = list({v.violation_id: v for v in violations}.values())
    await write_batch(pool, "month-test", BatchResult(positions=fixes, violations=[violation_row(v) for v in violations]))
    await pool.executemany("INSERT INTO deadletters (received_at, plate, source, is_fix, error) VALUES ($1, $2, 'http/fixes', $3, 'e')",
                           dead)
    for carrier in (None, *CARRIERS):
        want = reference(plates, fixes, dead, [v.wire() for v in violations], carrier)
        query = "period=month&date=2026-10" + (f"&carrier_id={carrier}" if carrier else "")
        _, got = await api.json("GET", f"/v1/reports/kpis?{query}", token, expect=200)
        f = got["figures"]
        pairs = {"access_rate": (want["connected"], want["registered"]), "online_rate": (want["online"], want["connected"]),
                 "data_qualification_rate": (want["qualified"], want["received"]),
                 "drift_rate": (want["drifting"], want["online"])}
        for name, (num, den) in pairs.items():
            assert (f[name]["numerator"], f[name]["denominator"]) == (num, den), (carrier, name)
            assert f[name]["value"] == pytest.approx(num / den, abs=1e-6), (carrier, name)
        assert f["track_completeness"]["denominator"] == pytest.approx(want["km"], abs=0.002), carrier
        assert f["track_completeness"]["numerator"] == pytest.approx(want["continuous_km"], abs=0.002), carrier
        assert f["track_completeness"]["value"] == pytest.approx(want["continuous_km"] / want["km"], abs=1e-5)
        assert f["offline_displacements"]["value"] == want["displacements"], carrier
        assert f["alarms_per_100km"]["numerator"] == want["alarms"], carrier
        assert 0 < want["continuous_km"] < want["km"] and want["qualified"] < want["received"]  # the data has both
        if carrier is None:
            assert want["online"] < want["connected"] < want["registered"] and want["drifting"] and want["displacements"]
