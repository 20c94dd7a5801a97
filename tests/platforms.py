"""A JT/T 809 server on a free port of 127.0.0.1, on the test's topics and database, and the
platform accounts its tests log in with."""
from __future__ import annotations

import random
from dataclasses import replace

from streams.kafka import Publisher
from tracker.db.pool import create_pool
from tracker.dev.platform import SubPlatform
from tracker.jt809.crypto import Keys
from tracker.jt809.server import Server
from tracker.serve import create_topics

KEYS = Keys(10_000_000, 20_000_000, 30_000_000)


async def start_server(settings, **limits):
    """(server, stop): `limits` override Jt809Limits fields (login_failure_delay_s defaults to 0 here)."""
    limits.setdefault("login_failure_delay_s", 0.0)
    own = settings.with_(jt809_host="127.0.0.1", jt809_port=0, jt809=replace(settings.jt809, **limits))
    await create_topics(own)
    pool = await create_pool(own.asyncpg_dsn, max_size=4)
    publisher = Publisher(own.kafka_bootstrap, timeout_s=own.broker_timeout_s)
    server = Server(own, pool, publisher)
    await server.start()

    async def stop():
        await server.stop()
        await publisher.close()
        await pool.close()

    return server, stop


async def register_platform(api, pid: str, carrier_ids: list[str], *, version: str | None = None,
                            keys: Keys | None = None, **fields) -> dict:
    """PUT /v1/platforms/{pid}; returns the account (with its password) for a SubPlatform."""
    body = {"name": f"platform {pid}", "carrier_ids": carrier_ids, "user_id": random.randrange(1, 2**32),
            "password": "pw" + str(random.randrange(100_000, 999_999)), "access_code": random.randrange(1, 2**32),
            **fields}
    if version:
        body["version"] = version
    if keys:
        body["encrypt"] = {"m1": keys.m1, "ia1": keys.ia1, "ic1": keys.ic1}
    await api.json("PUT", f"/v1/platforms/{pid}", api.admin_token, expect=201, json=body)
    return body


async def connected(server, account: dict, version: str = "2011", keys: Keys | None = None,
                    **changes) -> SubPlatform:
    fields = {"user_id": account["user_id"], "password": account["password"],
              "access_code": account["access_code"], **changes}
    return await SubPlatform(fields["user_id"], fields["password"], fields["access_code"], version,
                             keys=keys).connect("127.0.0.1", server.port)
