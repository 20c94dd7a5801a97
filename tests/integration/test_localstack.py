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


async def _refused_without_password(port: int) -> bool:
    try:
        conn = await asyncpg.connect(f"postgresql://postgres@127.0.0.1:{port}/hazmat", password="wrong")
    except asyncpg.InvalidPasswordError:
        return True
    await conn.close()
    return False


def _start_stop_restart(data):
    cluster = EmbeddedPostgres.start(data)
    try:
        assert asyncio.run(_postgis_version(cluster.url)).startswith("3.")
        # No local user is trusted: the password is generated and kept beside the data, 0600.
        assert asyncio.run(_refused_without_password(cluster.port))
        assert all("trust" not in line.split("#")[0] for line in (data / "pg_hba.conf").read_text().splitlines())
        assert os.stat(cluster.secret).st_mode & 0o777 == 0o600
        assert os.stat(data).st_mode & 0o777 == 0o700
        assert cluster.password not in cluster.shown_url
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


async def test_broker_memory_warning_says_what_to_do(caplog):
    """Past the limit one warning naming the remedy; the next only after another half of the
    limit; the watch ends by itself when the broker exits."""
    broker = EmbeddedBroker.start()
    try:
        rss = broker.rss_bytes()
        assert rss and rss > 1 << 20
        watch = asyncio.create_task(broker.watch_memory(rss // 2, interval_s=0.05))
        await asyncio.sleep(0.3)
        warnings = [r for r in caplog.records if r.levelname == "WARNING"]
        assert len(warnings) == 1  # rss did not grow by another quarter of itself
        assert "HAZMAT_KAFKA_BOOTSTRAP" in warnings[0].getMessage()
        assert "Restart `hazmat up`" in warnings[0].getMessage()
    finally:
        broker.stop()
    await asyncio.wait_for(watch, 1)
    assert broker.rss_bytes() is None
