"""PUT /v1/platforms/{id} and GET /v1/platforms: JT/T 809 platform accounts, the password
hashed and never shown again."""
from __future__ import annotations

import random

import pytest

from tests.contracts import validate
from tracker.api.context import POOL

pytestmark = pytest.mark.integration


def account(fleet, **changes) -> dict:
    body = {"name": "浙B物流监控平台", "carrier_ids": [fleet.carriers[0]], "user_id": random.randrange(1, 2**32),
            "password": "pw123456", "access_code": random.randrange(1, 2**32), "allowed_ips": ["127.0.0.1"],
            "version": "2019", "encrypt": {"m1": 10_000_000, "ia1": 20_000_000, "ic1": 30_000_000}}
    body.update(changes)
    return body


async def test_a_platform_is_registered_replaced_and_listed_without_its_secrets(api, fleet):
    body = account(fleet)
    _, created = await api.json("PUT", "/v1/platforms/p-ok", api.admin_token, expect=201, json=body)
    validate("platform.schema.json", created)
    assert "pw123456" not in str(created) and "20000000" not in str(created)
    assert created["encrypted"] is True and created["link"]["connected"] is False
    stored = await api.client.app[POOL].fetchval("SELECT password_hash FROM platforms WHERE id = 'p-ok'")
    assert "pw123456" not in stored and stored.startswith("pbkdf2_sha256$")
    del body["password"], body["encrypt"]
    _, replaced = await api.json("PUT", "/v1/platforms/p-ok", api.admin_token, expect=200, json=body)
    assert replaced["encrypted"] is False
    assert await api.client.app[POOL].fetchval("SELECT password_hash FROM platforms WHERE id = 'p-ok'") == stored
    operator = await api.token("operator")
    _, listed = await api.json("GET", "/v1/platforms", operator, expect=200)
    item = next(i for i in listed["items"] if i["id"] == "p-ok")
    validate("platform.schema.json", item)
    assert item["user_id"] == body["user_id"] and item["carrier_ids"] == [fleet.carriers[0]]


@pytest.mark.parametrize("changes, status", [
    ({"carrier_ids": ["no-such-carrier"]}, 422),
    ({"password": "123456789"}, 422),
    ({"password": "九个字节的"}, 422),  # 10 bytes in GBK
    ({"password": None}, 422),
    ({"user_id": 2**32}, 422),
    ({"version": "2013"}, 422),
    ({"password": "pass "}, 422),
    ({"allowed_ips": ["10.0.0.300"]}, 422),
    ({"encrypt": {"m1": 0, "ia1": 1, "ic1": 1}}, 422),
])
async def test_refused_accounts(api, fleet, changes, status):
    body = {k: v for k, v in account(fleet, **changes).items() if v is not None}
    await api.json("PUT", "/v1/platforms/p-bad", api.admin_token, expect=status, json=body)


async def test_a_user_id_belongs_to_one_platform(api, fleet):
    body = account(fleet)
    await api.json("PUT", "/v1/platforms/p-one", api.admin_token, expect=201, json=body)
    await api.json("PUT", "/v1/platforms/p-two", api.admin_token, expect=409, json=body)
