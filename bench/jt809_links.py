"""JT/T 809 platform links benchmark: one `hazmat jt809` process, N carriers' platforms
(one TCP link each, logged in, half 2011 and half 2019 layout) in a client process,
broker and PostgreSQL on the same machine. Prints, in one run:

- the server's memory per link (its RSS before and after N logged-in links),
- positions/s from the platforms' 0x1202 frames to the broker's acknowledgement: every
  platform sends its vehicles' positions as fast as its link takes them (a heartbeat every
  `--window` frames, its answer awaited, so a link has at most that many frames in flight),
  counted by the server's `hazmat_jt809_fixes_total{outcome="published"}` (incremented after
  the broker's ack) until every sent position is acknowledged,
- the ceiling: the producer alone publishing the same normalised fixes in batches of 500.

The platforms' client is Python on the same two cores, so the server gets about half of
them; the figures are a lower bound of what it does on a machine of its own.

Run: `.venv/bin/python -m bench.jt809_links --links 50`.
"""
from __future__ import annotations

import argparse
import asyncio
import time

import aiohttp
import asyncpg

from bench import entrances
from bench.entrances import rss_kib
from bench.ingest import cpu_seconds
from tracker.db.platforms import hash_password
from tracker.dev.platform import SubPlatform, position
from tracker.jt809.messages import DYNAMIC
from tracker.jt809.positions import encode_real_time

PASSWORD = "bench809"


def plate(link: int, n: int) -> str:
    return f"浙B{link:03d}{n:02d}"


async def registry(db: str, links: int, vehicles: int) -> None:
    """A carrier, its vehicles and its platform account per link."""
    hashed = hash_password(PASSWORD)
    conn = await asyncpg.connect(db)
    try:
        await conn.executemany("INSERT INTO carriers (id, name) VALUES ($1, 'bench')",
                               [(f"B{k:03d}",) for k in range(links)])
        await conn.executemany(
            """INSERT INTO vehicles (plate, carrier_id, tank_capacity_kg, hazard_classes, permit_valid_until,
                                     tank_inspection_valid_until)
               VALUES ($1, $2, 30000, '{3}', '2030-01-01', '2030-01-01')""",
            [(plate(k, n), f"B{k:03d}") for k in range(links) for n in range(vehicles)])
        await conn.executemany(
            """INSERT INTO platforms (id, name, carrier_ids, user_id, password_hash, access_code)
               VALUES ($1, 'bench', $2, $3, $4, $5)""",
            [(f"p{k}", [f"B{k:03d}"], 10_000 + k, hashed, 20_000 + k) for k in range(links)])
    finally:
        await conn.close()


async def published(metrics_port: int) -> float:
    async with aiohttp.ClientSession() as s, s.get(f"http://127.0.0.1:{metrics_port}/metrics") as r:
        text = await r.text()
    for line in text.splitlines():
        if line.startswith('hazmat_jt809_fixes_total{outcome="published"}'):
            return float(line.rsplit(" ", 1)[1])
    return 0.0


async def connect_all(port: int, links: int) -> list[SubPlatform]:
    async def one(k: int) -> SubPlatform:
        p = SubPlatform(10_000 + k, PASSWORD, 20_000 + k, "2019" if k % 2 else "2011", timeout_s=120)
        await p.connect("127.0.0.1", port)
        if await p.login() != 0:
            raise RuntimeError(f"platform {k} was refused")
        return p

    return await asyncio.gather(*(one(k) for k in range(links)))


async def flat_out(platforms: list[SubPlatform], vehicles: int, seconds: float, window: int) -> int:
    """Every platform sends positions of its vehicles round after round; positions sent."""
    deadline = time.monotonic() + seconds
    sent = 0
    ts0 = (int(time.time()) - 3600) * 1000

    async def run(k: int, p: SubPlatform) -> None:
        nonlocal sent
        step = 0
        while time.monotonic() < deadline:
            frames = []
            for _ in range(window):
                n, step = step % vehicles, step + 1
                # each vehicle's own second: no two positions of a vehicle share a time
                pos = position(plate(k, n), 29.9 + n * 1e-4, 121.8 + step * 1e-5, ts0 + (step // vehicles) * 1000,
                               speed_kmh=40, heading_deg=90)
                frames.append(p.frame(DYNAMIC, encode_real_time(pos, p.version)))
            await p.send_raw(b"".join(frames))
            await p.heartbeat()  # the server has read the window: at most `window` frames in flight
            sent += window

    await asyncio.gather(*(run(k, p) for k, p in enumerate(platforms)))
    return sent


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--links", type=int, default=50)
    parser.add_argument("--vehicles", type=int, default=20, help="vehicles per platform")
    parser.add_argument("--seconds", type=float, default=20.0)
    parser.add_argument("--window", type=int, default=50, help="frames a link sends between heartbeats")
    parser.add_argument("--ceiling-fixes", type=int, default=100_000)
    args = parser.parse_args()
    entrances.run("jt809", "HAZMAT_JT809_PORT", lambda db: registry(db, args.links, args.vehicles),
                  lambda port, metrics_port, pid: _measure(args, port, metrics_port, pid), args.ceiling_fixes)


async def _measure(args, port: int, metrics_port: int, pid: int) -> None:
    before = rss_kib(pid)
    started = time.perf_counter()
    platforms = await connect_all(port, args.links)
    print(f"{args.links} platforms connected and logged in in {time.perf_counter() - started:.1f} s")
    await asyncio.sleep(2)
    after = rss_kib(pid)
    print(f"server RSS {before / 1024:.1f} MiB idle -> {after / 1024:.1f} MiB with {args.links} links: "
          f"{(after - before) / args.links:.1f} KiB a link")
    base, cpu = await published(metrics_port), cpu_seconds(pid)
    started = time.perf_counter()
    sent = await flat_out(platforms, args.vehicles, args.seconds, args.window)
    while await published(metrics_port) - base < sent and time.perf_counter() - started < args.seconds + 60:
        await asyncio.sleep(0.05)
    elapsed = time.perf_counter() - started
    acked = await published(metrics_port) - base
    cpu = cpu_seconds(pid) - cpu
    print(f"flat out: {sent} positions sent by {args.links} links, {acked:.0f} acknowledged by the broker in "
          f"{elapsed:.1f} s = {acked / elapsed:,.0f} positions/s; server CPU {cpu / max(acked, 1) * 1e6:.0f} us a "
          f"position (= {acked / cpu:,.0f} positions/s per fully used core); RSS {rss_kib(pid) / 1024:.1f} MiB")
    await asyncio.gather(*(p.close() for p in platforms))


if __name__ == "__main__":
    main()
