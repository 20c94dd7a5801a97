"""How long a `hazmat worker` process takes from its start until it owns its partitions,
with N geofences written through the API's own path, and how long a rolling restart of
two workers leaves partitions unowned.

    python -m bench.start --geofences 300
    python -m bench.start --geofences 5000

Each worker is a real `hazmat worker` process against an embedded PostgreSQL+PostGIS and
the embedded broker, started as `hazmat up` starts its workers (tracker.worker_processes);
times are read from its own log lines ("... owns partitions ...").
The ceiling beside it: the same process's imports alone (`hazmat --help`).
"""
from __future__ import annotations

import argparse
import asyncio
import os
import platform
import random
import subprocess
import sys
import time
import uuid

import orjson

from bench.processes import WorkerProcess
from bench.worker import geofence_features
from tests import stack
from tracker.db.pool import create_pool
from geofence.features import check_feature
from geofence.index import DEFAULT_RESOLUTION, cover_feature
from tracker.db import geofences
from tracker.serve import create_topics
from tracker.cli import embedded_broker_settings
from tracker.settings import Settings
from tracker.worker_processes import worker_env

# The consumer-group members of one `hazmat worker` (tracker.serve.worker_running): the fix
# worker, the filling check, the plate-read check, the reminders, the dead-letter store.
MEMBERS = 5


def features(count: int) -> list[tuple[str, dict, dict]]:
    """`count` geofences of every kind, spread over the district like bench.worker's."""
    out, seed = [], 0
    while len(out) < count:
        rng = random.Random(seed)
        out += [(f"{gid}-{seed}", geom, props) for gid, geom, props in geofence_features(rng)]
        seed += 1
    return out[:count]


async def write_geofences(settings: Settings, items) -> float:
    pool = await create_pool(settings.asyncpg_dsn)
    started = time.perf_counter()
    try:
        for gid, geometry, props in items:  # as PUT /v1/geofences/{id} does
            clean = await asyncio.to_thread(check_feature, {"type": "Feature", "geometry": geometry,
                                                             "properties": dict(props, active=True)})
            extra = {k: v for k, v in clean["properties"].items() if k not in ("kind", "name", "active", "version")}
            cells = await asyncio.to_thread(cover_feature, clean["geometry"], clean["properties"])
            await geofences.put(pool, gid, props["kind"], props["name"], True, extra,
                                orjson.dumps(clean["geometry"]).decode(), DEFAULT_RESOLUTION, cells)
    finally:
        await pool.close()
    return time.perf_counter() - started


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--geofences", type=int, default=300)
    args = parser.parse_args()
    print(f"machine: {platform.machine()}, {os.cpu_count()} cores, Python {platform.python_version()}")
    with stack.postgres_server() as server, stack.fresh_database(server) as db, stack.broker() as broker:
        settings = Settings(database_url=db, kafka_bootstrap=broker.bootstrap, topic_prefix=f"s{uuid.uuid4().hex[:6]}.",
                            topic_partitions=8, worker_group="start")
        asyncio.run(create_topics(settings))
        written = asyncio.run(write_geofences(settings, features(args.geofences)))
        print(f"{args.geofences} geofences written through the API's path in {written:.1f} s")
        # As `hazmat up` starts its workers on the embedded broker (its session, its fetch wait).
        env = dict(worker_env(embedded_broker_settings(settings, broker.bootstrap)),
                   HAZMAT_TOPIC_PREFIX=settings.topic_prefix, HAZMAT_TOPIC_PARTITIONS="8",
                   HAZMAT_WORKER_GROUP=settings.worker_group)
        started = time.perf_counter()
        subprocess.run([sys.executable, "-m", "tracker.cli", "--help"], env=env, check=True, capture_output=True)
        print(f"ceiling, the process's imports alone (hazmat --help): {time.perf_counter() - started:.1f} s")
        for _ in range(2):
            worker = WorkerProcess(env)
            try:
                worker.wait_owning(MEMBERS)
            finally:
                worker.stop()
            print("one worker, start -> owns partitions: "
                  + ", ".join(f"{group} {seconds:.1f} s" for group, seconds in sorted(worker.owned.items())))
        first = WorkerProcess(env)
        second = WorkerProcess(env)
        try:
            first.wait_owning(MEMBERS)
            second.wait_owning(MEMBERS)
            stopped = time.perf_counter()
            first.stop()
            again = WorkerProcess(env)
            again.wait_owning(MEMBERS)
            print(f"rolling restart of one of two workers, stop -> the new one owns partitions: "
                  f"{time.perf_counter() - stopped:.1f} s")
            again.stop()
        finally:
            second.stop()


if __name__ == "__main__":
    main()
