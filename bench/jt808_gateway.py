"""JT/T 808 gateway benchmark: one `hazmat jt808` process, N concurrent terminals (one TCP
connection each, authenticated, half 2013 and half 2019 framing) in a client process,
broker and PostgreSQL on the same machine. Prints, in one run:

- the gateway's memory per connection (its RSS before and after N authenticated connections),
- fixes/s accepted with every terminal reporting as fast as answers come back (a 0x0200
  sent, the 0x8001 awaited, the next sent): the gateway's throughput,
- p50/p99 from a report sent to its answer (which comes after the broker's ack) with each
  terminal reporting at its own pace (every --pace-s; real terminals: 10-30 s), and the
  gateway's own p99 from frame received to broker ack (its histogram, bucket bound),
- the ceiling: the producer alone publishing the same normalised fixes in batches of 500.

The terminals' client is Python on the same two cores, so the gateway gets about half of
them; the figures are a lower bound of what it does on a machine of its own.

Run: `.venv/bin/python -m bench.jt808_gateway --terminals 1000` (and 10000).
"""
from __future__ import annotations

import argparse
import asyncio
import subprocess
import time

import aiohttp
import asyncpg

from bench import entrances
from bench.entrances import rss_kib
from bench.ingest import cpu_seconds
from tracker.db.terminals import hash_code
from tracker.dev.terminal import Terminal, location

CARRIER = "BENCH"
CODE = "bench-code-0001"


def plate(n: int) -> str:
    return f"浙B{n:05d}"


def phone(n: int) -> str:
    return f"1370{n:07d}"


async def registry(db: str, terminals: int) -> None:
    """Vehicles with terminal phones, and terminals registered with one code (registration
    itself is not what is measured)."""
    conn = await asyncpg.connect(db)
    try:
        await conn.execute("INSERT INTO carriers (id, name) VALUES ($1, 'bench')", CARRIER)
        await conn.executemany(
            """INSERT INTO vehicles (plate, carrier_id, tank_capacity_kg, hazard_classes, permit_valid_until,
                                     tank_inspection_valid_until, terminal_phone)
               VALUES ($1, $2, 30000, '{3}', '2030-01-01', '2030-01-01', $3)""",
            [(plate(n), CARRIER, phone(n)) for n in range(terminals)])
        await conn.executemany(
            "INSERT INTO terminals (phone, plate, auth_code_hash, header_version) VALUES ($1, $2, $3, '2013')",
            [(phone(n), plate(n), hash_code(CODE)) for n in range(terminals)])
    finally:
        await conn.close()


async def connect_all(port: int, count: int) -> list[Terminal]:
    gate = asyncio.Semaphore(200)

    async def one(n: int) -> Terminal:
        version = "2019" if n % 2 else "2013"
        t = Terminal(phone(n).rjust(20 if version == "2019" else 12, "0"), version, timeout_s=60)
        async with gate:
            await t.connect("127.0.0.1", port)
            if await t.authenticate(CODE) != 0:
                raise RuntimeError(f"terminal {n} was refused")
        return t

    return await asyncio.gather(*(one(n) for n in range(count)))


def report(n: int, step: int):
    return location(29.9 + (n % 1000) * 1e-4, 121.8 + step * 1e-4, (int(time.time()) - 5) * 1000, speed_kmh=40,
                    heading_deg=90, mileage_km=100 + step / 10)


async def flat_out(terminals: list[Terminal], seconds: float) -> int:
    """Every terminal reports as soon as its last report was answered; fixes accepted."""
    deadline = time.monotonic() + seconds
    accepted = 0

    async def run(n: int, t: Terminal) -> None:
        nonlocal accepted
        step = 0
        while time.monotonic() < deadline:
            step += 1
            if await t.report(report(n, step)) != 0:
                raise RuntimeError("a report was refused")
            accepted += 1

    await asyncio.gather(*(run(n, t) for n, t in enumerate(terminals)))
    return accepted


async def paced(terminals: list[Terminal], seconds: float, pace_s: float) -> list[float]:
    """Every terminal reports every `pace_s` (spread over the interval); answer latencies (s)."""
    latencies: list[float] = []
    end = time.monotonic() + seconds

    async def run(n: int, t: Terminal) -> None:
        await asyncio.sleep(pace_s * n / len(terminals))
        step = 0
        while time.monotonic() < end:
            step += 1
            started = time.perf_counter()
            if await t.report(report(n, step)) != 0:
                raise RuntimeError("a report was refused")
            latencies.append(time.perf_counter() - started)
            await asyncio.sleep(max(0.0, pace_s - (time.perf_counter() - started)))

    await asyncio.gather(*(run(n, t) for n, t in enumerate(terminals)))
    return sorted(latencies)


async def gateway_buckets(metrics_port: int) -> list[tuple[float, float]]:
    """The gateway's histogram of frame received -> broker ack: (upper bound s, count)."""
    async with aiohttp.ClientSession() as s, s.get(f"http://127.0.0.1:{metrics_port}/metrics") as r:
        text = await r.text()
    buckets = []
    for line in text.splitlines():
        if line.startswith("hazmat_jt808_report_seconds_bucket"):
            bound = line.split('le="')[1].split('"')[0]
            buckets.append((float(bound), float(line.rsplit(" ", 1)[1])))
    return buckets


def p99_bound(before: list[tuple[float, float]], after: list[tuple[float, float]]) -> str:
    """The bucket that holds the 99th percentile of what was observed between the two."""
    counts = [(bound, n - m) for (bound, n), (_, m) in zip(after, before)]
    total = counts[-1][1]
    bound = next(b for b, n in counts if n >= 0.99 * total)
    return f"<= {bound * 1000:g} ms" if bound != float("inf") else "> 10 s"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--terminals", type=int, default=1000)
    parser.add_argument("--seconds", type=float, default=20.0, help="length of each load phase")
    parser.add_argument("--pace-s", type=float, default=10.0, help="a terminal's report interval, paced phase")
    parser.add_argument("--ceiling-fixes", type=int, default=100_000)
    parser.add_argument("--profile", metavar="FILE", help="profile the gateway with py-spy during the flat-out "
                        "phase, writing a speedscope profile to FILE")
    args = parser.parse_args()
    entrances.run("jt808", "HAZMAT_JT808_PORT", lambda db: registry(db, args.terminals),
                  lambda port, metrics_port, pid: _measure(args, port, metrics_port, pid), args.ceiling_fixes)


async def _measure(args, port: int, metrics_port: int, pid: int) -> None:
    before = rss_kib(pid)
    started = time.perf_counter()
    terminals = await connect_all(port, args.terminals)
    print(f"{args.terminals} terminals connected and authenticated in {time.perf_counter() - started:.1f} s")
    await asyncio.sleep(2)
    after = rss_kib(pid)
    print(f"gateway RSS {before / 1024:.1f} MiB idle -> {after / 1024:.1f} MiB with {args.terminals} connections: "
          f"{(after - before) / args.terminals:.1f} KiB a connection")
    cpu = cpu_seconds(pid)
    profiler = subprocess.Popen(["py-spy", "record", "-r", "200", "-f", "speedscope", "-o", args.profile, "-p",
                                 str(pid), "-d", str(int(args.seconds))], stdout=subprocess.DEVNULL,
                                stderr=subprocess.DEVNULL) if args.profile else None
    accepted = await flat_out(terminals, args.seconds)
    cpu = cpu_seconds(pid) - cpu
    if profiler is not None:
        profiler.wait(60)
    print(f"flat out: {accepted} fixes accepted in {args.seconds:.0f} s = {accepted / args.seconds:,.0f} fixes/s; "
          f"gateway CPU {cpu / accepted * 1e6:.0f} us a fix (= {accepted / cpu:,.0f} fixes/s per fully used core); "
          f"RSS {rss_kib(pid) / 1024:.1f} MiB")
    before = await gateway_buckets(metrics_port)
    latencies = await paced(terminals, args.seconds * 2, args.pace_s)
    after = await gateway_buckets(metrics_port)
    n = len(latencies)
    print(f"paced, a report every {args.pace_s:g} s per terminal ({args.terminals / args.pace_s:,.0f} fixes/s): "
          f"{n} reports, answer p50 {latencies[n // 2] * 1000:.1f} ms, p99 {latencies[int(n * 0.99)] * 1000:.1f} ms, "
          f"max {latencies[-1] * 1000:.1f} ms; the gateway's own frame -> broker ack p99 {p99_bound(before, after)}")
    await asyncio.gather(*(t.close() for t in terminals))


if __name__ == "__main__":
    main()
