"""Worker benchmark: fixes through one worker process end to end (consume -> rules ->
COPY positions -> violations out), then through N `hazmat worker` processes sharing the
partitions (`--processes`, as `hazmat up` runs them), beside the consume-and-parse
ceiling of the same client, the obvious alternative (one PostGIS ST_Intersects query per
fix), latency from fix published to violation event at a steady 5 000 fixes/s, and
memory per vehicle.

Run: `.venv/bin/python -m bench.worker` (also `make bench`). Broker and PostgreSQL run on
the same machine as the worker.
"""
from __future__ import annotations

import argparse
import asyncio
import gc
import os
import platform
import random
import statistics
import time
import timeit
import tracemalloc
import uuid

import asyncpg
import orjson
import shapely

from bench.processes import WorkerProcess
from geofence.index import DEFAULT_RESOLUTION, cover_feature
from geofence.model import compile_geofence
from streams.batch import process
from streams.kafka import Publisher, consumer
from streams.times import local_midnight
from streams.times import parse_rfc3339
from streams.topics import Topics
from tests import stack
from tracker.db import geofences
from tracker.db.pool import create_pool
from tracker.serve import create_topics, tune_collector
from tracker.settings import Settings
from tracker.worker_processes import worker_env
from tracker.workers.fixes import Worker
from tracker.workers.loop import PartitionedLoop
from tracker.workers.references import References

WEST, SOUTH, EAST, NORTH = 121.70, 29.80, 122.00, 30.00
M_LAT, M_LON = 1 / 110_574, 1 / 96_400


def geofence_features(rng: random.Random) -> list[tuple[str, dict, dict]]:
    """A district's worth: parks, lots, stations, closed roads, no-stopping zones, speed zones."""
    out = []

    def box(cx, cy, w_m, h_m):
        w, h = w_m * M_LON / 2, h_m * M_LAT / 2
        return {"type": "Polygon", "coordinates": [[[cx - w, cy - h], [cx + w, cy - h], [cx + w, cy + h],
                                                    [cx - w, cy + h], [cx - w, cy - h]]]}

    def point():
        return rng.uniform(WEST, EAST), rng.uniform(SOUTH, NORTH)

    for i in range(3):
        out.append((f"park-{i}", box(*point(), 3000, 2000), {"kind": "chem_park", "name": f"park {i}"}))
    for i in range(12):
        out.append((f"lot-{i}", box(*point(), 200, 150), {"kind": "parking", "name": f"lot {i}"}))
    for i in range(36):
        x, y = point()
        out.append((f"station-{i}", {"type": "Point", "coordinates": [x, y]},
                    {"kind": "filling_station", "name": f"station {i}", "station_id": f"S{i}", "radius_m": 120}))
    for i in range(20):
        x, y = point()
        line = {"type": "LineString", "coordinates": [[x, y], [x + rng.uniform(-0.03, 0.03), y + rng.uniform(-0.02, 0.02)],
                                                      [x + rng.uniform(-0.05, 0.05), y + rng.uniform(-0.03, 0.03)]]}
        out.append((f"road-{i}", line, {"kind": "restricted_road", "name": f"road {i}", "buffer_m": 30,
                                        "ban_windows": [{"days": [1, 2, 3, 4, 5], "from": "07:00", "to": "09:00"}]}))
    for i in range(10):
        out.append((f"nostop-{i}", box(*point(), 300, 80), {"kind": "no_stopping", "name": f"bridge {i}"}))
    for i in range(5):
        x, y = point()
        line = {"type": "LineString", "coordinates": [[x, y], [x + 0.1, y + 0.02]]}
        out.append((f"expressway-{i}", line, {"kind": "speed_zone", "name": f"G{i}", "buffer_m": 40,
                                               "speed_limit_kmh": 80}))
    return out


def fleet_stream(vehicles: int, per_vehicle: int, t0: int, rng: random.Random, jump_every: int = 0,
                 together: bool = False) -> list[dict]:
    """Each vehicle wanders at 30-80 km/h, a fix every 10 s; every `jump_every`-th fix jumps
    20 km, each vehicle at its own turn, or every vehicle in the same round (`together`)."""
    fixes = []
    for v in range(vehicles):
        plate = f"浙B{v:05d}"
        x, y = rng.uniform(WEST, EAST), rng.uniform(SOUTH, NORTH)
        heading = rng.uniform(0, 360)
        for k in range(per_vehicle):
            speed = rng.choice((0.0, 35.0, 55.0, 72.0))
            heading = (heading + rng.uniform(-20, 20)) % 360
            step = speed / 3.6 * 10
            x = min(EAST, max(WEST, x + step * M_LON * rng.uniform(-1, 1)))
            y = min(NORTH, max(SOUTH, y + step * M_LAT * rng.uniform(-1, 1)))
            jumps = jump_every and k and (k if together else k + v) % jump_every == 0
            lat, lon = (y + 0.2, x) if jumps else (y, x)
            fixes.append({"plate": plate, "ts": t0 + k * 10_000, "lat": lat, "lon": lon, "speed_kmh": speed,
                          "heading_deg": round(heading, 1) % 360, "carrier_id": "BENCH", "received_at": t0 + k * 10_000,
                          "source": "http"})
    fixes.sort(key=lambda f: f["ts"])
    for i, f in enumerate(fixes):  # as the API stamps them: one received_at per request of 500
        f["received_at"] = fixes[i - i % 500]["ts"]
    return fixes


def stream_start() -> int:
    """Yesterday 09:00 in Shanghai: the same hours of the day whenever the benchmark runs, so
    its work does not depend on the time (a stream through 02:00 adds night driving)."""
    return local_midnight(int(time.time() * 1000) - 24 * 3600_000) + 9 * 3600_000


async def load_geofences(pool: asyncpg.Pool, features) -> None:
    """As `PUT /v1/geofences/{id}` stores them: with their H3 covers, computed once here."""
    for gid, geom, p in features:
        await geofences.put(pool, gid, p["kind"], p["name"], True,
                            {k: v for k, v in p.items() if k not in ("kind", "name")}, orjson.dumps(geom).decode(),
                            DEFAULT_RESOLUTION, cover_feature(geom, p))


async def produce(bootstrap: str, topic: str, fixes: list[dict]) -> None:
    publisher = Publisher(bootstrap)
    for i in range(0, len(fixes), 5000):
        await publisher.publish(topic, [(f["plate"].encode(), orjson.dumps(f)) for f in fixes[i:i + 5000]])
    await publisher.close()


async def ceiling(bootstrap: str, topic: str, total: int) -> float:
    c = consumer(bootstrap, [topic], group_id=None, max_poll_records=5000)
    await c.start()
    seen, started = 0, time.perf_counter()
    while seen < total:
        for records in (await c.getmany(timeout_ms=1000, max_records=5000)).values():
            for r in records:
                orjson.loads(r.value)
            seen += len(records)
    elapsed = time.perf_counter() - started
    await c.stop()
    return total / elapsed


async def end_to_end(settings: Settings, pool: asyncpg.Pool, total: int) -> tuple[float, float, Worker]:
    """Timed from the first batch in the worker's hands (the group join and the references'
    first load excluded) to the commit of the last fix. (Timing from the first commit
    seen, as before, left out the batches processed while it committed and gave figures
    above the ceiling.)"""
    tune_collector()  # as `hazmat worker` does
    publisher = Publisher(settings.kafka_bootstrap)
    worker = Worker(settings, pool, publisher, References(settings.worker.references_max_age_s))
    began: list[float] = []
    handle = worker.handle

    async def timed_handle(records, partitions):
        began.append(time.perf_counter())
        await handle(records, partitions)

    worker.handle = timed_handle
    stop = asyncio.Event()
    cpu0 = time.process_time()
    task = asyncio.create_task(PartitionedLoop(settings, pool, publisher, worker, worker.refs).run(stop))
    while True:
        done = await pool.fetchval("SELECT coalesce(sum(next_offset), 0)::bigint FROM consumer_offsets WHERE group_id = $1",
                                   settings.worker_group)
        if done >= total:
            break
        if task.done():  # the worker failed: its error, not a wait for ever
            await task
            raise RuntimeError(f"the worker stopped after {done} of {total} fixes")
        await asyncio.sleep(0.02)
    elapsed = time.perf_counter() - began[0]
    stop.set()
    await task
    await publisher.close()
    return total / elapsed, (time.process_time() - cpu0) / total * 1e6, worker


async def end_to_end_processes(settings: Settings, pool: asyncpg.Pool, total: int, count: int) -> tuple[float, float]:
    """`count` real `hazmat worker` processes sharing the partitions: fixes/s from the moment
    every member of every process owns its partitions (the group settled; what the first
    one did before is left out) to the commit of the last fix, and their CPU a fix."""
    env = dict(worker_env(settings), HAZMAT_TOPIC_PREFIX=settings.topic_prefix,
               HAZMAT_TOPIC_PARTITIONS=str(settings.topic_partitions), HAZMAT_WORKER_GROUP=settings.worker_group)
    workers = [WorkerProcess(env) for _ in range(count)]
    done_sql = "SELECT coalesce(sum(next_offset), 0)::bigint FROM consumer_offsets WHERE group_id = $1"
    try:
        while not all(settings.worker_group in w.owned for w in workers):
            for w in workers:
                if w.process.poll() is not None:
                    raise RuntimeError(f"a worker exited ({w.process.returncode}): {w.last}")
            await asyncio.sleep(0.02)
        started, cpu0 = time.perf_counter(), sum(w.cpu_s() for w in workers)
        first = await pool.fetchval(done_sql, settings.worker_group)
        while (done := await pool.fetchval(done_sql, settings.worker_group)) < total:
            for w in workers:
                if w.process.poll() is not None:
                    raise RuntimeError(f"a worker exited ({w.process.returncode}) after {done} of {total}: {w.last}")
            await asyncio.sleep(0.02)
        elapsed, cpu = time.perf_counter() - started, sum(w.cpu_s() for w in workers) - cpu0
        return (done - first) / elapsed, cpu / (done - first) * 1e6
    finally:
        for w in workers:
            w.stop()


async def forget_the_run(pool: asyncpg.Pool, settings: Settings) -> None:
    """Everything a worker wrote, so that the next run of the backlog does the same work."""
    await pool.execute("TRUNCATE positions, violations, violation_handling, violation_handling_history, outbox, "
                       "vehicle_state, vehicle_checkpoints, deadletters")


def state_memory(worker: Worker, fixes: list[dict]) -> float:
    """Bytes held per vehicle by the states the same stream builds (traced on a fresh run,
    after the timed one: tracing slows Python several times)."""
    copies = [dict(f) for f in fixes]
    tracemalloc.start()
    states: dict = {}
    for i in range(0, len(copies), 5000):
        process(copies[i:i + 5000], states, worker.ctx)
    del copies
    gc.collect()
    held = tracemalloc.get_traced_memory()[0]  # what is still alive: the states (and their plates)
    tracemalloc.stop()
    return held / len(states)


async def postgis_per_fix(pool: asyncpg.Pool, features, fixes: list[dict], runs: int = 3) -> float:
    """The obvious alternative: the same areas in PostGIS, one ST_Intersects query per fix;
    its best of `runs` (right after the end-to-end run PostgreSQL may still be writing it
    out, and single runs here ranged 10 000-13 500 queries/s)."""
    await pool.execute("CREATE TABLE bench_areas (id text, area geometry(Geometry, 4326))")
    areas = [(gid, shapely.to_wkb(compile_geofence(gid, 1, geom, p).area)) for gid, geom, p in features]
    await pool.executemany("INSERT INTO bench_areas VALUES ($1, ST_SetSRID(ST_GeomFromWKB($2), 4326))", areas)
    await pool.execute("CREATE INDEX ON bench_areas USING gist (area); ANALYZE bench_areas")
    async with pool.acquire() as conn:
        query = await conn.prepare("SELECT id FROM bench_areas WHERE ST_Intersects(area, ST_SetSRID(ST_MakePoint($1, $2), 4326))")
        best = 0.0
        for _ in range(runs):
            started = time.perf_counter()
            for f in fixes:
                await query.fetch(f["lon"], f["lat"])
            best = max(best, len(fixes) / (time.perf_counter() - started))
        return best


async def latency(settings: Settings, pool: asyncpg.Pool, rate: int, seconds: int, rng: random.Random,
                  together: bool) -> list[float]:
    """Publish at `rate` fixes/s with an impossible jump now and then (every vehicle at once
    if `together`: a batch of hundreds of violations); for each gps_jump event, the time from
    publishing the jumping fix to reading the event. Topics and a group of their own, so the
    worker starts with no backlog."""
    settings = settings.with_(topic_prefix=f"lat{uuid.uuid4().hex[:6]}.", worker_group=f"latency-{together}")
    # The vehicles' states of the run before: a new random walk would start with a jump each.
    await pool.execute("TRUNCATE vehicle_state, vehicle_checkpoints")
    await create_topics(settings)
    topics = Topics(settings.topic_prefix)
    vehicles = 668
    now = int(time.time() * 1000)
    fixes = fleet_stream(vehicles, rate * seconds // vehicles, now - seconds * 1000, rng, jump_every=40,
                         together=together)
    for i, f in enumerate(fixes):  # spread event time over the publishing window
        f["ts"] = f["received_at"] = now - seconds * 1000 + i * 1000 // rate
    published: dict[tuple[str, int], float] = {}
    publisher, worker_pub = Publisher(settings.kafka_bootstrap), Publisher(settings.kafka_bootstrap)
    worker = Worker(settings, pool, worker_pub, References(settings.worker.references_max_age_s))
    stop = asyncio.Event()
    task = asyncio.create_task(PartitionedLoop(settings, pool, worker_pub, worker, worker.refs).run(stop))
    events = consumer(settings.kafka_bootstrap, [topics.violations], group_id=None, fetch_max_wait_ms=20)
    await events.start()
    await events.getmany(timeout_ms=100)
    await asyncio.sleep(6)  # group join
    arrivals: list[float] = []

    async def read_events():
        while not stop.is_set():
            for records in (await events.getmany(timeout_ms=200)).values():
                for r in records:
                    event = orjson.loads(r.value)
                    key = (event["subject"], parse_rfc3339(event["data"]["started_at"]))
                    if event["data"]["kind"] == "gps_jump" and event["type"].endswith("opened") and key in published:
                        arrivals.append(time.perf_counter() - published[key])

    reader = asyncio.create_task(read_events())
    step = rate // 10
    start = time.perf_counter()
    for n, i in enumerate(range(0, len(fixes), step)):
        chunk = fixes[i:i + step]
        await asyncio.sleep(max(0.0, start + n * 0.1 - time.perf_counter()))
        sent_at = time.perf_counter()
        await publisher.publish(topics.fixes, [(f["plate"].encode(), orjson.dumps(f)) for f in chunk])
        for f in chunk:
            published[(f["plate"], f["ts"])] = sent_at
    await asyncio.sleep(3)
    stop.set()
    await asyncio.gather(task, reader)
    await events.stop()
    await publisher.close()
    await worker_pub.close()
    return arrivals


def python_speed() -> float:
    """Milliseconds for a fixed loop of plain Python, best of five: runs on different
    machines compare only beside it."""
    return min(timeit.repeat("sum(range(10**7))", number=1, repeat=5)) * 1000


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--fixes", type=int, default=300_000)
    parser.add_argument("--vehicles", type=int, default=668)
    parser.add_argument("--processes", type=int, nargs="*", default=[2],
                        help="also run the backlog through this many `hazmat worker` processes (each count in turn)")
    args = parser.parse_args()
    print(f"machine: {platform.machine()}, {os.cpu_count()} cores, Python {platform.python_version()}, "
          f"{python_speed():.0f} ms for sum(range(10**7)) (a yardstick: machines of one kind differ ~3x)")
    rng = random.Random(7)
    features = geofence_features(rng)
    with stack.postgres_server() as server, stack.fresh_database(server) as db, stack.broker() as broker:
        settings = Settings(database_url=db, kafka_bootstrap=broker.bootstrap, topic_prefix=f"b{uuid.uuid4().hex[:6]}.",
                            topic_partitions=8, worker_group="bench")

        async def run() -> None:
            await create_topics(settings)
            pool = await create_pool(settings.asyncpg_dsn)
            await load_geofences(pool, features)
            fixes = fleet_stream(args.vehicles, args.fixes // args.vehicles, stream_start(), rng)
            await produce(settings.kafka_bootstrap, Topics(settings.topic_prefix).fixes, fixes)
            print(f"{len(fixes)} fixes of {args.vehicles} vehicles, {len(features)} geofences")
            ceiling_rate = await ceiling(settings.kafka_bootstrap, Topics(settings.topic_prefix).fixes, len(fixes))
            print(f"ceiling, consume and parse alone: {ceiling_rate:,.0f} fixes/s")
            # The stream is put away as one bytes object while the worker runs: a worker process
            # holds no such list, and its millions of objects made every collection slower.
            total, kept = len(fixes), orjson.dumps(fixes)
            del fixes
            gc.collect()
            e2e, cpu_us, worker = await end_to_end(settings, pool, total)
            fixes = orjson.loads(kept)
            print(f"end to end, one worker: {e2e:,.0f} fixes/s = {e2e / ceiling_rate:.2f} of the ceiling "
                  f"({cpu_us:.1f} us CPU per fix in the worker process)")
            rates = {}
            for count in args.processes:
                await forget_the_run(pool, settings)
                rates[count], cpu = await end_to_end_processes(settings.with_(worker_group=f"bench-{count}"), pool,
                                                               total, count)
                print(f"end to end, {count} `hazmat worker` process(es): {rates[count]:,.0f} fixes/s = "
                      f"{rates[count] / ceiling_rate:.2f} of the ceiling ({cpu:.1f} us CPU per fix in them)")
            state_bytes = sum(len(s.snapshot()) for s in worker.states.values()) / len(worker.states)
            print(f"state per vehicle: {state_bytes:.0f} bytes as stored JSON, {state_memory(worker, fixes):.0f} bytes "
                  f"in memory ({len(worker.states)} vehicles)")
            sample = fixes[:5000]
            alt = await postgis_per_fix(pool, features, sample)
            times = [f"one worker {e2e / alt:.1f}x"] + [f"{n} processes {r / alt:.1f}x" for n, r in rates.items()]
            print(f"alternative, one PostGIS ST_Intersects query per fix: {alt:,.0f} fixes/s "
                  f"(end to end: {', '.join(times)})")
            for together, what in ((False, "one vehicle in 40 jumps each round"),
                                   (True, "burst: all vehicles jump in the same round")):
                arrivals = sorted(await latency(settings, pool, 5000, 20, rng, together))
                p50, p99 = statistics.median(arrivals), arrivals[int(0.99 * (len(arrivals) - 1))]
                print(f"latency fix published -> gps_jump event at 5 000 fixes/s, {what}: p50 {p50 * 1000:.0f} ms, "
                      f"p99 {p99 * 1000:.0f} ms ({len(arrivals)} events)")
            await pool.close()

        asyncio.run(run())


if __name__ == "__main__":
    main()
