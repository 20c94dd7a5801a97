"""Soak: `hazmat up --simulate N` on the embedded stack for a bounded time, sampling the
memory of every process and the growth of the fix topic (issue 26, "run for weeks").

Every `--interval` seconds it records the resident set (RSS) of the hazmat process, of its
stream worker processes (summed) and of the broker, the proportional set size (PSS: shared buffers split between the processes
that share them, so the sum adds up) of PostgreSQL's postmaster and backends, how far
behind the workers are (on their most delayed partition), and the record batches each
partition of the fix topic gained (a raw fetch of the new range: the embedded broker's
memory and every fetch's cost grow with the batches it holds, docs/operations.md). At the
end it prints the curve and the growth per day extrapolated from a straight line fitted
after the warm-up.

    python -m bench.soak --minutes 10 [--vehicles 668] [--interval 30] [--json out.json]

Everything runs on 127.0.0.1 in a temporary data directory, removed at the end.
"""
from __future__ import annotations

import argparse
import asyncio
import json
import os
import re
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import asyncpg
from aiokafka import TopicPartition
from aiokafka.client import AIOKafkaClient
from aiokafka.protocol.fetch import FetchRequest
from aiokafka.record.memory_records import MemoryRecords

from streams.topics import Topics
from tracker.dev.localstack import free_port

BROKER_LINE = re.compile(r"broker .*?(127\.0\.0\.1:\d+)")
FETCH_BYTES = 8 << 20


def memory_kb(pid: int, field: str) -> int:
    """A process's VmRSS (from status) or Pss (from smaps_rollup) in kB; 0 once it is gone."""
    try:
        with open(f"/proc/{pid}/{'status' if field == 'VmRSS' else 'smaps_rollup'}") as f:
            for line in f:
                if line.startswith(f"{field}:"):
                    return int(line.split()[1])
    except OSError:
        pass
    return 0


def children(pid: int) -> list[int]:
    found = []
    for entry in os.listdir("/proc"):
        if entry.isdigit():
            try:
                with open(f"/proc/{entry}/stat") as f:
                    if int(f.read().rsplit(")", 1)[1].split()[1]) == pid:
                        found.append(int(entry))
            except (OSError, IndexError, ValueError):
                continue
    return found


def cmdline(pid: int) -> str:
    try:
        with open(f"/proc/{pid}/cmdline", "rb") as f:
            return f.read().replace(b"\0", b" ").decode(errors="replace")
    except OSError:
        return ""


def processes(hazmat_pid: int, data_dir: Path) -> dict[str, list[int]]:
    """The processes to measure: hazmat, its stream worker processes, the broker it started,
    and PostgreSQL (pg_ctl daemonizes the postmaster, so it is found by its pid file)."""
    broker = [p for p in children(hazmat_pid) if "broker" in cmdline(p)]
    postgres = []
    pidfile = data_dir / "pg" / "postmaster.pid"
    if pidfile.exists():
        postmaster = int(pidfile.read_text().split()[0])
        postgres = [postmaster, *children(postmaster)]
    workers = [p for p in children(hazmat_pid) if "tracker.cli worker" in cmdline(p)]
    return {"hazmat": [hazmat_pid], "workers": workers, "postgres": postgres, "broker": broker}


async def count_batches(client: AIOKafkaClient, topic: str, partition: int, start: int) -> tuple[int, int]:
    """Record batches of one partition from offset `start` to its end, read raw, and the
    offset after the last. Read to the end rather than to the reported end offset: the
    embedded broker under-reports end offsets (docs/operations.md)."""
    leader = client.cluster.leader_for_partition(TopicPartition(topic, partition))
    batches, offset = 0, start
    while True:
        request = FetchRequest(500, 1, FETCH_BYTES, 0, [(topic, [(partition, offset, FETCH_BYTES)])])
        response = await client.send(leader, request)
        records = MemoryRecords(response.topics[0][1][0][-1]) if response.topics else None
        moved = False
        while records is not None and (batch := records.next_batch()) is not None:
            if batch.next_offset > offset:
                batches += 1
                offset, moved = batch.next_offset, True
        if not moved:
            return batches, offset


async def sample_topic(bootstrap: str, topic: str, last: dict[int, int]) -> tuple[dict[int, int], int]:
    """Per partition the offset after its last record, and the batches written since `last`."""
    client = AIOKafkaClient(bootstrap_servers=bootstrap)
    await client.bootstrap()
    try:
        await client.force_metadata_update()
        now, batches = {}, 0
        for p in sorted(client.cluster.partitions_for_topic(topic) or ()):
            new, now[p] = await count_batches(client, topic, p, last.get(p, 0))
            batches += new
        return now, batches
    finally:
        await client.close()


async def worker_behind_s(stack_dir: Path, group: str, topic: str) -> float | None:
    """For the partition the workers are furthest behind on, how long ago the newest fix
    they stored from it was received (their offsets and partition clocks are in PostGIS): a
    few seconds while they keep up, growing when a partition stops arriving. (Offsets
    cannot say it: the embedded broker's offsets are unreliable.)"""
    port = (stack_dir / "pg" / "postmaster.pid").read_text().split("\n")[3]
    password = (stack_dir / "pg.password").read_text().strip()
    conn = await asyncpg.connect(host="127.0.0.1", port=int(port), user="postgres", password=password,
                                 database="hazmat")
    try:
        behind = await conn.fetchval(
            "SELECT extract(epoch FROM now()) - min(received_ms) / 1000.0 FROM consumer_offsets "
            "WHERE group_id = $1 AND topic = $2", group, topic)
        return None if behind is None else float(behind)
    finally:
        await conn.close()


def slope_per_day(points: list[tuple[float, float]]) -> float:
    """Least-squares slope of (seconds, value) points, per day."""
    if len(points) < 2:
        return 0.0
    n = len(points)
    mx = sum(t for t, _ in points) / n
    my = sum(v for _, v in points) / n
    var = sum((t - mx) ** 2 for t, _ in points)
    return 0.0 if var == 0 else sum((t - mx) * (v - my) for t, v in points) / var * 86_400


async def soak(args: argparse.Namespace) -> dict:
    data_dir = Path(tempfile.mkdtemp(prefix="hazmat-soak-"))
    os.chmod(data_dir, 0o711)
    env = {k: v for k, v in os.environ.items() if k not in ("HAZMAT_DATABASE_URL", "HAZMAT_KAFKA_BOOTSTRAP")}
    env.update(HAZMAT_DATA_DIR=str(data_dir / "stack"), HAZMAT_HTTP_HOST="127.0.0.1",
               HAZMAT_HTTP_PORT=str(free_port()), HAZMAT_JT808_HOST="127.0.0.1", HAZMAT_JT808_PORT=str(free_port()))
    log = open(data_dir / "hazmat.log", "w+b")
    proc = subprocess.Popen([sys.executable, "-m", "tracker.cli", "up", "--simulate", str(args.vehicles)],
                            stdout=subprocess.PIPE, stderr=log, env=env, start_new_session=True)
    topic = Topics(env.get("HAZMAT_TOPIC_PREFIX", "hazmat.")).fixes
    samples: list[dict] = []
    try:
        bootstrap = None
        started = time.monotonic()
        for raw in proc.stdout:
            line = raw.decode(errors="replace")
            if (found := BROKER_LINE.search(line)) and "started" in line:
                bootstrap = found.group(1)
            if line.startswith("  stop with Ctrl-C"):
                break
        if proc.poll() is not None or bootstrap is None:
            log.seek(0)
            raise SystemExit(f"hazmat up did not come up:\n{log.read().decode(errors='replace')[-3000:]}")
        print(f"up in {time.monotonic() - started:.1f} s; broker {bootstrap}; sampling every {args.interval} s "
              f"for {args.minutes} min", flush=True)
        print(f"{'t_s':>6} {'hazmat_MB':>10} {'workers_MB':>11} {'postgres_MB':>12} {'broker_MB':>10} "
              f"{'fix_records':>12} "
              f"{'fix_batches':>12} {'batches/part':>18} {'worker_behind_s':>16}", flush=True)
        t0, last, batches, per_part = time.monotonic(), {}, 0, {}
        while True:
            pss = {name: sum(memory_kb(p, "Pss" if name == "postgres" else "VmRSS") for p in pids)
                   for name, pids in processes(proc.pid, data_dir / "stack").items()}
            now, new_batches = await sample_topic(bootstrap, topic, last)
            behind = await worker_behind_s(data_dir / "stack", env.get("HAZMAT_WORKER_GROUP", "hazmat-workers"), topic)
            batches += new_batches
            last = now
            t = time.monotonic() - t0
            sample = {"t_s": round(t, 1), **{f"{k}_kb": v for k, v in pss.items()},
                      "fix_records": sum(now.values()), "fix_batches": batches,
                      "worker_behind_s": behind}
            samples.append(sample)
            per_part = now
            print(f"{t:6.0f} {pss['hazmat'] / 1024:10.1f} {pss['workers'] / 1024:11.1f} "
                  f"{pss['postgres'] / 1024:12.1f} {pss['broker'] / 1024:10.1f} "
                  f"{sample['fix_records']:12d} {batches:12d} {batches / max(1, len(now)):18.0f} "
                  f"{'-' if behind is None else f'{behind:.1f}':>16}", flush=True)
            if proc.poll() is not None:
                raise SystemExit(f"hazmat exited with {proc.returncode} during the soak (log: {data_dir})")
            if t >= args.minutes * 60:
                break
            try:
                await asyncio.sleep(max(0.0, args.interval - (time.monotonic() - t0 - t)))
            except asyncio.CancelledError:  # SIGINT/SIGTERM: stop early, summarize what was sampled
                print(f"stopped after {t:.0f} s", flush=True)
                break
    finally:
        if proc.poll() is None:
            os.killpg(proc.pid, signal.SIGINT)
            try:
                proc.wait(60)
            except subprocess.TimeoutExpired:
                os.killpg(proc.pid, signal.SIGKILL)
                proc.wait()
        log.close()
        if samples and not args.keep:
            shutil.rmtree(data_dir, ignore_errors=True)
    return summarize(samples, per_part, args.warmup_s)


def summarize(samples: list[dict], partitions: dict[int, int], warmup_s: float) -> dict:
    steady = [s for s in samples if s["t_s"] >= warmup_s] or samples
    growth = {name: slope_per_day([(s["t_s"], s[f"{name}_kb"] / 1024) for s in steady])
              for name in ("hazmat", "workers", "postgres", "broker")}
    batches_day = slope_per_day([(s["t_s"], s["fix_batches"]) for s in steady])
    records_day = slope_per_day([(s["t_s"], s["fix_records"]) for s in steady])
    per_partition_day = batches_day / max(1, len(partitions))
    result = {"samples": samples, "growth_mb_per_day": growth, "fix_batches_per_day": batches_day,
              "fix_records_per_day": records_day, "fix_batches_per_partition_per_day": per_partition_day}
    print("\ngrowth per day (straight line after the warm-up):", flush=True)
    for name, mb in growth.items():
        print(f"  {name:9s} {mb:+10.1f} MB/day", flush=True)
    print(f"  fix topic {records_day:,.0f} records/day in {batches_day:,.0f} batches/day "
          f"({per_partition_day:,.0f} batches per partition per day; "
          f"{records_day / max(1.0, batches_day):.1f} records per batch)", flush=True)
    return result


async def stoppable(work):
    """Run `work`, cancelled by SIGINT or SIGTERM (a background job ignores SIGINT)."""
    task = asyncio.ensure_future(work)
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(sig, task.cancel)
    return await task


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--minutes", type=float, default=10.0)
    parser.add_argument("--interval", type=float, default=30.0, help="seconds between samples (default: 30)")
    parser.add_argument("--vehicles", type=int, default=668)
    parser.add_argument("--warmup-s", type=float, default=120.0, help="left out of the growth fit (default: 120)")
    parser.add_argument("--json", type=Path, help="also write the samples and the summary here")
    parser.add_argument("--keep", action="store_true", help="keep the data directory and hazmat's log")
    args = parser.parse_args()
    result = asyncio.run(stoppable(soak(args)))
    if args.json:
        args.json.write_text(json.dumps(result, indent=1))


if __name__ == "__main__":
    main()
