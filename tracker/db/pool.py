"""The one owner of database connections: an asyncpg pool with JSON codecs set up."""
from __future__ import annotations

from datetime import datetime, timedelta, timezone

import asyncpg
import orjson

# PostgreSQL counts timestamps in microseconds from 2000-01-01 UTC.
PG_EPOCH = datetime(2000, 1, 1, tzinfo=timezone.utc)
PG_EPOCH_MS = 946_684_800_000
MICROSECOND = timedelta(microseconds=1)


def _encode_timestamptz(value: datetime | int) -> tuple[int]:
    """timestamptz parameters as aware datetimes or as epoch milliseconds (int): fixes carry
    epoch ms, and the worker's COPY of positions spent more time making and encoding
    datetimes than on all the other columns together (bench/RESULTS.md)."""
    if type(value) is int:
        return ((value - PG_EPOCH_MS) * 1000,)
    if value.tzinfo is None:
        raise ValueError(f"naive datetime {value!r} for a timestamptz: give it a time zone")
    return ((value - PG_EPOCH) // MICROSECOND,)


def _decode_timestamptz(value: tuple[int]) -> datetime:
    return PG_EPOCH + timedelta(microseconds=value[0])


def _encode_json(value) -> str:
    """JSON parameters as Python values, or as bytes already serialised (state snapshots;
    orjson refuses bytes, so they cannot mean anything else)."""
    return value.decode() if type(value) is bytes else orjson.dumps(value).decode()


async def _init_connection(conn: asyncpg.Connection) -> None:
    for typename in ("json", "jsonb"):
        await conn.set_type_codec(typename, schema="pg_catalog", encoder=_encode_json, decoder=orjson.loads)
    await conn.set_type_codec("timestamptz", schema="pg_catalog", encoder=_encode_timestamptz,
                              decoder=_decode_timestamptz, format="tuple")


async def create_pool(dsn: str, *, min_size: int = 1, max_size: int = 10, **options) -> asyncpg.Pool:
    return await asyncpg.create_pool(
        dsn, min_size=min_size, max_size=max_size, init=_init_connection, command_timeout=60, **options
    )


async def _keep_session(conn: asyncpg.Connection) -> None:
    """Nothing to undo: the writer's code leaves no session state (asyncpg still rolls back
    an open transaction before this runs)."""


async def create_writer_pool(dsn: str, *, max_size: int = 2) -> asyncpg.Pool:
    """Connections for the worker's batch transactions and outbox relays, which wait on one
    round trip after another while the worker's main thread holds the GIL: so none is
    spent on a reset query per release, and commits do not wait for the WAL flush (a
    database crash loses a batch's results and its offsets together, and the batch is
    consumed again with the same violation ids; a relay's mark lost republishes the same
    event ids, which consumers drop)."""
    return await create_pool(dsn, max_size=max_size, reset=_keep_session,
                             server_settings={"synchronous_commit": "off"})
