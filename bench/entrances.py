"""What the benchmarks of the TCP entrances share (`bench.jt808_gateway`,
`bench.jt809_links`): the entrance as a process of its own on a fresh database and
broker, its memory, and the producer's ceiling measured in the same run."""
from __future__ import annotations

import asyncio
import os
import platform
import subprocess
import sys
import time
import uuid
from collections.abc import Awaitable, Callable

from bench.ingest import ceiling
from streams.kafka import ensure_topics
from streams.topics import Topics
from tests import stack
from tracker.dev.localstack import free_port, wait_for_port

# measure(port, metrics_port, pid): the entrance's benchmark proper, while it runs.
Measure = Callable[[int, int, int], Awaitable[None]]


def machine() -> str:
    return (f"machine: {platform.machine()}, {os.cpu_count()} cores, Python {platform.python_version()}, "
            f"load average {open('/proc/loadavg').read().split()[0]} (shared with other sessions)")


def rss_kib(pid: int) -> int:
    for line in open(f"/proc/{pid}/status"):
        if line.startswith("VmRSS:"):
            return int(line.split()[1])
    raise RuntimeError("no VmRSS")


def run(command: str, port_variable: str, registry: Callable[[str], Awaitable[None]], measure: Measure,
        ceiling_fixes: int) -> None:
    """`hazmat <command>` on a fresh database (`registry` fills it) and broker, measured by
    `measure`; then the producer alone publishing `ceiling_fixes` normalised fixes."""
    print(machine())
    with stack.postgres_server() as server, stack.fresh_database(server) as db, stack.broker() as broker:
        asyncio.run(registry(db))
        port, metrics_port = free_port(), free_port()
        env = dict(os.environ, HAZMAT_DATABASE_URL=db, HAZMAT_KAFKA_BOOTSTRAP=broker.bootstrap,
                   HAZMAT_METRICS_PORT=str(metrics_port), HAZMAT_TOPIC_PREFIX=f"bench{uuid.uuid4().hex[:6]}.")
        env[port_variable] = str(port)
        env.pop("HAZMAT_JT809_UPSTREAM", None)  # no link toward a province here
        process = subprocess.Popen([sys.executable, "-m", "tracker.cli", command], env=env,
                                   stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        try:
            wait_for_port(port, 60, process)
            time.sleep(1)
            asyncio.run(measure(port, metrics_port, process.pid))
        finally:
            process.terminate()
            process.wait(30)
        topic = Topics(f"ceiling{uuid.uuid4().hex[:6]}.").fixes
        asyncio.run(ensure_topics(broker.bootstrap, [topic], 8))
        elapsed = asyncio.run(ceiling(broker.bootstrap, topic, ceiling_fixes, 500))
        print(f"ceiling, producer alone (acks=all, batches of 500): {ceiling_fixes} messages in {elapsed:.2f} s "
              f"= {ceiling_fixes / elapsed:,.0f} msg/s")
