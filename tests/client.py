"""A thin test client: requests with a token, and a small fleet registered under unique ids."""
from __future__ import annotations

import uuid
from dataclasses import dataclass, field

from aiohttp import web
from aiohttp.test_utils import TestClient, TestServer

from tracker.api.server import ApiRunner


@dataclass
class Api:
    client: TestClient
    admin_token: str
    tokens: dict[str, str] = field(default_factory=dict)

    async def call(self, method: str, path: str, token: str | None = None, **kwargs):
        headers = kwargs.pop("headers", {})
        if token is not None:
            headers["Authorization"] = f"Bearer {token}"
        return await self.client.request(method, path, headers=headers, **kwargs)

    async def json(self, method: str, path: str, token: str | None = None, expect: int | None = None, **kwargs):
        response = await self.call(method, path, token, **kwargs)
        body = await response.json(content_type=None) if response.status != 204 else None
        if expect is not None:
            assert response.status == expect, (response.status, body)
        return response.status, body

    async def token(self, role: str, **binding) -> str:
        _, body = await self.json("POST", "/v1/tokens", self.admin_token, expect=201,
                                  json={"role": role, "label": f"test {role}", **binding})
        return body["token"]


@dataclass
class Fleet:
    """Two carriers with two vehicles each, and one driver and one escort per carrier."""

    carriers: list[str]
    plates: dict[str, list[str]]  # carrier -> plates
    drivers: dict[str, tuple[str, str]]  # carrier -> (driver, escort)


PLATE_CHARS = "0123456789ABCDEFGHJKLMNPQRSTUVWXYZ"  # (no I, no O: plates leave them out)


def fleet_body() -> tuple[Fleet, dict]:
    """Two carriers of two vehicles each, unique to the call: the session's database holds
    every test's fleet, and a plate two fleets share belongs to the one registered last
    (plates from three hex digits collided within a run: a fix of the other carrier)."""
    tag = uuid.uuid4().hex[:6].upper()
    carriers = [f"C{tag}A", f"C{tag}B"]
    code, n = "", uuid.uuid4().int
    for _ in range(5):  # 34^5 = 45 million codes
        n, digit = divmod(n, len(PLATE_CHARS))
        code += PLATE_CHARS[digit]
    plates = {c: [f"浙B{code}{2 * i + k}" for k in range(2)] for i, c in enumerate(carriers)}
    drivers = {c: (f"D{c}", f"E{c}") for c in carriers}
    body = {
        "carriers": [{"id": c, "name": f"Carrier {c}", "license_no": f"L-{c}"} for c in carriers],
        "vehicles": [
            {"plate": p, "carrier_id": c, "tank_capacity_kg": 30000, "hazard_classes": ["2.1", "3"],
             "permit_valid_until": "2030-01-01", "tank_inspection_valid_until": "2030-01-01"}
            for c in carriers for p in plates[c]
        ],
        "drivers": [
            {"id": d, "name": f"Driver {d}", "carrier_id": c, "roles": [role],
             "qualification_valid_until": "2030-01-01"}
            for c in carriers for d, role in zip(drivers[c], ("driver", "escort"))
        ],
    }
    return Fleet(carriers, plates, drivers), body


class ApiTestServer(TestServer):
    """The test client's server, run the way production runs it (tracker.api.server)."""

    async def _make_runner(self, **kwargs) -> web.AppRunner:
        return ApiRunner(self.app, **kwargs)
