"""The API on a real PostGIS that goes away: a request that needs the database is answered
503 with Retry-After (try again), not 500 (a bug), and the API answers again once the
database is back."""
from __future__ import annotations

import asyncio

import pytest

from tests import stack
from tests.client import ApiTestServer
from tracker.api.app import create_app
from tracker.api.context import POOL
from tracker.auth import ADMIN, insert_token, new_token
from tracker.db import migrate

pytestmark = pytest.mark.integration


async def test_the_database_away_is_a_503_to_retry(aiohttp_client, settings):
    with stack.cluster_dir() as data:
        cluster = stack.EmbeddedPostgres.start(data)
        try:
            await migrate.upgrade(cluster.url.replace("postgresql://", "postgresql+asyncpg://", 1))
            client = await aiohttp_client(ApiTestServer(create_app(settings.with_(database_url=cluster.url))))
            token = new_token()
            await insert_token(client.app[POOL], token, ADMIN, "outage test")
            headers = {"Authorization": f"Bearer {token}"}
            assert (await client.get("/v1/vehicles", headers=headers)).status == 200
            await asyncio.to_thread(cluster.stop)
            answer = await client.get("/v1/vehicles", headers=headers)
            assert answer.status == 503, await answer.text()
            assert answer.headers["Retry-After"] == "5"
            assert (await answer.json())["status"] == 503
            await asyncio.to_thread(cluster.restart)
            for _ in range(40):  # the pool's connections were closed with the server: new ones are made
                answer = await client.get("/v1/vehicles", headers=headers)
                if answer.status == 200:
                    break
                assert answer.status == 503
                await asyncio.sleep(0.25)
            assert answer.status == 200
        finally:
            cluster.stop()
