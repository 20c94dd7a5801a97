"""Writes of one burst batch: every vehicle of the fleet breaks a rule in the same round
(bench.worker's burst), so one batch writes ~2 700 outbox rows and 668 vehicle states.
The worker's way (outbox rows by COPY, states as snapshot bytes) beside the obvious
alternative (one INSERT each, states as dicts the codec serialises again), each timed
inside a transaction that is rolled back, so every repetition writes into the same tables.

Run: `.venv/bin/python -m bench.writes`.
"""
from __future__ import annotations

import asyncio
import os
import platform
import random
import statistics
import time
import timeit

import orjson

from bench.worker import fleet_stream, python_speed, stream_start
from geofence.index import GeofenceIndex
from streams.batch import process
from streams.rules.config import RuleConfig
from streams.rules.engine import Context
from streams.topics import Topics
from tests import stack
from tracker.workers import outbox
from tracker.db.outbox import insert_outbox
from tracker.db.states import state_row, upsert_states
from tracker.db.pool import create_writer_pool
from tracker.settings import Settings

REPEAT = 15


def burst() -> tuple[list[tuple], list]:
    """The outbox rows and the states after a round in which all 668 vehicles jump."""
    fixes = fleet_stream(668, 41, stream_start(), random.Random(7), jump_every=40, together=True)
    states: dict = {}
    outcome = process(fixes, states, Context(GeofenceIndex(), lambda plate, ts: None, RuleConfig()))
    return outbox.rows(Topics(""), outcome.events), list(states.values())


async def timed(pool, write) -> float:
    """Median milliseconds of `write(conn)` in a transaction rolled back afterwards."""
    times = []
    for _ in range(REPEAT):
        async with pool.acquire() as conn:
            transaction = conn.transaction()
            await transaction.start()
            started = time.perf_counter()
            await write(conn)
            times.append(time.perf_counter() - started)
            await transaction.rollback()
    return statistics.median(times) * 1000


def main() -> None:
    print(f"machine: {platform.machine()}, {os.cpu_count()} cores, Python {platform.python_version()}, "
          f"{python_speed():.0f} ms for sum(range(10**7))")
    rows, states = burst()
    n = len(states)
    per_state = {
        "snapshot bytes (the worker's)": lambda: [orjson.dumps(s).decode() for s in states],
        "a dict, serialised again by the codec": lambda: [orjson.dumps(orjson.loads(orjson.dumps(s))).decode()
                                                          for s in states],
    }
    for what, encode in per_state.items():
        us = min(timeit.repeat(encode, number=5, repeat=5)) / 5 / n * 1e6
        print(f"state encoding, {what}: {us:.1f} us a state")
    state_rows = [state_row(s) for s in states]
    with stack.postgres_server() as server, stack.fresh_database(server) as db:
        async def run() -> None:
            pool = await create_writer_pool(Settings(database_url=db).asyncpg_dsn)
            copy = await timed(pool, lambda conn: insert_outbox(conn, rows))
            one_each = await timed(pool, lambda conn: conn.executemany(
                "INSERT INTO outbox (topic, key, event_id, value) VALUES ($1, $2, $3, $4)", rows))
            print(f"outbox, {len(rows)} rows: COPY (the worker's) {copy:.1f} ms, one INSERT each {one_each:.1f} ms")
            upsert = await timed(pool, lambda conn: upsert_states(conn, state_rows))
            print(f"vehicle states, {n} rows upserted: {upsert:.1f} ms")
            await pool.close()

        asyncio.run(run())


if __name__ == "__main__":
    main()
