"""Ingest benchmark: HTTP batches of fixes against one `hazmat api` process, acks=all,
broker and PostgreSQL on the same machine. Prints, in one run:

- the API with batches of 500 (the target: >= 50 000 fixes/s accepted per API process),
- the obvious alternative: one fix per request,
- the ceiling: the same client module producing the same normalised messages, no HTTP.

Run: `make bench` (or `.venv/bin/python -m bench.ingest --fixes 200000`).
"""
from __future__ import annotations

import argparse
import asyncio
import os
import platform
import subprocess
import sys
import time
import uuid

import aiohttp
import orjson

from streams.kafka import Publisher, ensure_topics
from streams.topics import Topics
from tests import stack
from tracker.dev.localstack import free_port, wait_for_port

CARRIER = "BENCH"
PLATES = [f"浙B{n:05d}" for n in range(668)]


def registry() -> dict:
    return {
        "carriers": [{"id": CARRIER, "name": "bench carrier"}],
        "vehicles": [{"plate": p, "carrier_id": CARRIER, "tank_capacity_kg": 30000, "hazard_classes": ["3"],
                      "permit_valid_until": "2030-01-01", "tank_inspection_valid_until": "2030-01-01"}
                     for p in PLATES],
    }


def batches(total: int, size: int) -> list[bytes]:
    now = int(time.time() * 1000)
    out = []
    for start in range(0, total, size):
        items = [{"plate": PLATES[i % len(PLATES)], "ts": now - 60_000 + i % 50_000, "lat": 29.9 + (i % 1000) * 1e-5,
                  "lon": 121.8 + (i % 997) * 1e-5, "speed_kmh": 42.0, "heading_deg": 180.0, "sats": 9}
                 for i in range(start, min(start + size, total))]
        out.append(orjson.dumps(items))
    return out


async def post_all(url: str, token: str, bodies: list[bytes], concurrency: int) -> tuple[float, int]:
    headers = {"Authorization": f"Bearer {token}", "Content-Type": "application/json"}
    queue = list(reversed(bodies))
    accepted = 0

    async def worker(session: aiohttp.ClientSession) -> None:
        nonlocal accepted
        while queue:
            body = queue.pop()
            async with session.post(url + "/v1/fixes", data=body, headers=headers) as response:
                answer = await response.json()
                if response.status != 202:
                    raise RuntimeError(f"{response.status}: {answer}")
                accepted += answer["accepted"]

    started = time.perf_counter()
    async with aiohttp.ClientSession(connector=aiohttp.TCPConnector(limit=concurrency)) as session:
        await asyncio.gather(*(worker(session) for _ in range(concurrency)))
    return time.perf_counter() - started, accepted


async def ceiling(bootstrap: str, topic: str, total: int, size: int) -> float:
    """The producer alone: the same messages, the same acks=all, no HTTP, no validation."""
    now = int(time.time() * 1000)
    messages = [(PLATES[i % len(PLATES)].encode(), orjson.dumps(
        {"plate": PLATES[i % len(PLATES)], "ts": now, "lat": 29.9, "lon": 121.8, "speed_kmh": 42.0,
         "heading_deg": 180.0, "sats": 9, "carrier_id": CARRIER, "received_at": now, "source": "http"}))
        for i in range(total)]
    publisher = Publisher(bootstrap)
    started = time.perf_counter()
    await asyncio.gather(*(publisher.publish(topic, messages[i:i + size]) for i in range(0, total, size)))
    elapsed = time.perf_counter() - started
    await publisher.close()
    return elapsed


async def setup_api(url: str, admin: str) -> str:
    async with aiohttp.ClientSession(headers={"Authorization": f"Bearer {admin}"}) as s:
        async with s.put(url + "/v1/registry", json=registry()) as r:
            assert r.status == 200, await r.text()
        async with s.post(url + "/v1/tokens", json={"role": "gateway", "carrier_id": CARRIER, "label": "bench"}) as r:
            return (await r.json())["token"]


def cpu_seconds(pid: int) -> float:
    """User + system CPU time of a process, from /proc (clock ticks)."""
    fields = open(f"/proc/{pid}/stat").read().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--fixes", type=int, default=200_000)
    parser.add_argument("--batch", type=int, default=500)
    parser.add_argument("--concurrency", type=int, default=8)
    parser.add_argument("--single-fixes", type=int, default=5_000, help="fixes sent one per request")
    args = parser.parse_args()
    print(f"machine: {platform.machine()}, {os.cpu_count()} cores, Python {platform.python_version()}")
    with stack.postgres_server() as server, stack.fresh_database(server) as db, stack.broker() as broker:
        port, admin = free_port(), uuid.uuid4().hex
        prefix = f"bench{uuid.uuid4().hex[:6]}."
        env = dict(os.environ, HAZMAT_DATABASE_URL=db, HAZMAT_KAFKA_BOOTSTRAP=broker.bootstrap,
                   HAZMAT_HTTP_PORT=str(port), HAZMAT_ADMIN_TOKEN=admin, HAZMAT_TOPIC_PREFIX=prefix)
        api = subprocess.Popen([sys.executable, "-m", "tracker.cli", "api"], env=env,
                               stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        try:
            wait_for_port(port, 60, api)
            url = f"http://127.0.0.1:{port}"
            token = asyncio.run(setup_api(url, admin))
            asyncio.run(post_all(url, token, batches(5_000, args.batch), args.concurrency))  # warm-up
            bodies = batches(args.fixes, args.batch)
            cpu_before = cpu_seconds(api.pid)
            elapsed, accepted = asyncio.run(post_all(url, token, bodies, args.concurrency))
            api_cpu = cpu_seconds(api.pid) - cpu_before
            assert accepted == args.fixes, accepted
            print(f"API, batches of {args.batch}, {args.concurrency} concurrent: {accepted} fixes in {elapsed:.2f} s "
                  f"= {accepted / elapsed:,.0f} fixes/s; API process CPU {api_cpu / accepted * 1e6:.1f} us/fix "
                  f"(= {accepted / api_cpu:,.0f} fixes/s per fully used core)")
            elapsed, accepted = asyncio.run(post_all(url, token, batches(args.single_fixes, 1), args.concurrency))
            print(f"API, one fix per request, {args.concurrency} concurrent: {accepted} fixes in {elapsed:.2f} s "
                  f"= {accepted / elapsed:,.0f} fixes/s")
        finally:
            api.terminate()
            api.wait(10)
        topic = Topics(f"ceiling{uuid.uuid4().hex[:6]}.").fixes
        asyncio.run(ensure_topics(broker.bootstrap, [topic], 8))
        elapsed = asyncio.run(ceiling(broker.bootstrap, topic, args.fixes, args.batch))
        print(f"ceiling, producer alone (acks=all, batches of {args.batch}): {args.fixes} messages in {elapsed:.2f} s "
              f"= {args.fixes / elapsed:,.0f} msg/s")


if __name__ == "__main__":
    main()
