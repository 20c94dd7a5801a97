"""The embedded stack of `hazmat up`: a private PostGIS cluster that starts, stops and restarts
on the same data directory, and the Tansu broker."""
from __future__ import annotations

import asyncio
import os

import asyncpg
import pytest

from tests.stack import cluster_dir
from tracker.dev.localstack import EmbeddedBroker, EmbeddedPostgres, StackError, wait_for_port

pytestmark = pytest.mark.integration


async def _postgis_version(url: str) -> str:
    conn = await asyncpg.connect(url)
    try:
        return await conn.fetchval("SELECT postgis_lib_version()")
    finally:
        await conn.close()


def test_private_cluster_starts_stops_and_reuses_its_data():
    with cluster_dir() as data:
        _start_stop_restart(data)


def test_unreachable_data_dir_is_explained(tmp_path):
    if os.geteuid() != 0:
        pytest.skip("only root demotes PostgreSQL to the postgres user")
    with pytest.raises(StackError, match="cannot enter"):
        EmbeddedPostgres.start(tmp_path / "pg")


def _start_stop_restart(data):
    cluster = EmbeddedPostgres.start(data)
    try:
        assert asyncio.run(_postgis_version(cluster.url)).startswith("3.")
    finally:
        cluster.stop()
    again = EmbeddedPostgres.start(data)
    try:
        assert asyncio.run(_postgis_version(again.url))
    finally:
        again.stop()
    assert (data / "PG_VERSION").exists()


def test_broker_listens_and_stops():
    broker = EmbeddedBroker.start()
    wait_for_port(broker.port, 5)
    broker.stop()
    assert broker.process.poll() is not None
