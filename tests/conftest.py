"""Fixtures: one real PostGIS database and one real broker per run; per test, an API app
with its own topic prefix, so tests never see each other's messages."""
from __future__ import annotations

import os
import uuid
from datetime import datetime, timedelta

import pytest
import time_machine
from hypothesis import settings as hypothesis_settings

from streams.times import LOCAL
from streams.topics import Topics
from tests import stack
from tests.client import Api, ApiTestServer, fleet_body
from tests.members import member_running
from tracker.api.app import create_app
from tracker.auth import ADMIN, insert_token, new_token
from tracker.workers.fixes import Worker
from tracker.settings import Settings

# `make fuzz`: property tests that do not fix their own budget run this many examples.
if os.environ.get("HAZMAT_FUZZ_EXAMPLES"):
    hypothesis_settings.register_profile("fuzz", max_examples=int(os.environ["HAZMAT_FUZZ_EXAMPLES"]), deadline=None)
    hypothesis_settings.load_profile("fuzz")


@pytest.fixture(autouse=True)
def shifted_clock():
    """`HAZMAT_CLOCK_SHIFT_DAYS=N` runs each test with the wall clock N days ahead (time, datetime;
    the loop's monotonic clock is untouched): `make test`'s guard that a test passes on any day,
    not only in the week it was written. `HAZMAT_CLOCK_LOCAL_TIME=HH:MM` also sets that day's
    Beijing time of day, e.g. just after local midnight, when "today" and "12 minutes ago" are
    different local days (a CI run at 16:05 UTC found a test that assumed otherwise)."""
    days = int(os.environ.get("HAZMAT_CLOCK_SHIFT_DAYS", "0"))
    local_time = os.environ.get("HAZMAT_CLOCK_LOCAL_TIME")
    if not days and not local_time:
        yield
        return
    target = datetime.now(LOCAL) + timedelta(days=days)
    if local_time:
        hour, minute = (int(part) for part in local_time.split(":"))
        target = target.replace(hour=hour, minute=minute)
    with time_machine.travel(target, tick=True):
        yield


@pytest.fixture(scope="session")
def pg_server():
    with stack.postgres_server() as url:
        yield url


@pytest.fixture(scope="session")
def database_url(pg_server):
    with stack.fresh_database(pg_server) as url:
        yield url


@pytest.fixture(scope="session")
def broker():
    with stack.broker() as process:
        yield process


@pytest.fixture
def settings(database_url, broker) -> Settings:
    return Settings(
        database_url=database_url,
        kafka_bootstrap=broker.bootstrap,
        topic_prefix=f"t{uuid.uuid4().hex[:10]}.",
        topic_partitions=2,
        max_body_bytes=2 * 1024 * 1024,
        broker_timeout_s=5.0,
    )


@pytest.fixture
def topics(settings) -> Topics:
    return Topics(settings.topic_prefix)


@pytest.fixture
async def api(aiohttp_client, settings) -> Api:
    """A running app and an admin token for it."""
    client = await aiohttp_client(ApiTestServer(create_app(settings)))
    from tracker.api.context import POOL

    token = new_token()
    await insert_token(client.app[POOL], token, ADMIN, "test admin")
    return Api(client, token)


@pytest.fixture
async def fleet(api):
    """Two carriers' vehicles, drivers and escorts, registered through the API."""
    fleet, body = fleet_body()
    await api.json("PUT", "/v1/registry", api.admin_token, expect=200, json=body)
    return fleet


@pytest.fixture
def worker_settings(settings):
    """Settings for workers of a group of the test's own."""
    return settings.with_(topic_partitions=4, worker_group=f"g-{settings.topic_prefix}")


@pytest.fixture
def database_alone(pg_server):
    """A fresh database for one test: for tests that write what every later test's worker
    would read (geofences) or that relay every pending outbox row."""
    with stack.fresh_database(pg_server) as url:
        yield url


@pytest.fixture
def own_database(pg_server, worker_settings):
    """Worker settings with a database of the test's own: the session's holds other tests'
    vehicles, whose states workers would load and time out (offline) on this test's topics."""
    with stack.fresh_database(pg_server) as url:
        yield worker_settings.with_(database_url=url)


@pytest.fixture
async def worker(settings):
    """A fix worker on the test's topics, in the test's event loop (the API's pool is its own)."""
    async with member_running(Worker, settings) as member:
        yield member.handler


@pytest.fixture
async def gateway(settings):
    """A JT/T 808 gateway on the test's topics (`gateway.port` on 127.0.0.1)."""
    from tests.gateway import start_gateway

    gateway, stop = await start_gateway(settings)
    yield gateway
    await stop()
