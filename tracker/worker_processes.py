"""`hazmat up`'s stream workers as processes of their own (`hazmat worker`, HAZMAT_UP_WORKERS).

One Python process runs on one core: with the API, both gateways, the simulated fleet and
the worker on one event loop, `hazmat up` used one core of the machine however many it
had. Workers in processes of their own share the fix partitions as one consumer group
(as they would on other machines), each on a core of its own; two of them took the
benchmark's backlog 1.6x as fast as one on a 2-core machine (bench/RESULTS.md).

They are children of `hazmat up`: told its URLs (the embedded stack's), stopped with it,
and sent SIGTERM by the kernel should it die without stopping them (each asks for that
itself when it starts: `follow_parent`, not in the fork, where Python code may deadlock on
a lock another thread held). One that exits on its own takes `hazmat up` down with its
status, as a worker inside the process always did.
"""
from __future__ import annotations

import asyncio
import ctypes
import logging
import os
import signal
import sys
from contextlib import asynccontextmanager

from tracker.settings import Settings

log = logging.getLogger(__name__)

NOT_FOR_WORKERS = ("HAZMAT_METRICS_PORT", "HAZMAT_ADMIN_TOKEN")
STOP_WAIT_S = 30.0  # a worker commits its batch in flight before it exits; then it is killed
PR_SET_PDEATHSIG = 1


class WorkerExited(RuntimeError):
    """A worker process stopped while `hazmat up` still ran."""


def default_count() -> int:
    """Half the machine's cores, 1 to 4: the other half runs the API, the gateways, the
    broker and PostgreSQL."""
    return max(1, min(4, (os.cpu_count() or 1) // 2))


def worker_count(settings: Settings) -> int:
    """HAZMAT_UP_WORKERS, or the default; never more than the fix topic's partitions (a
    worker without one would only idle, holding its memory and connections)."""
    wanted = default_count() if settings.up_workers is None else settings.up_workers
    if wanted > settings.topic_partitions:
        log.warning("%d stream worker processes asked for, %d started: the fix topic has %d partitions",
                    wanted, settings.topic_partitions, settings.topic_partitions)
    return min(wanted, settings.topic_partitions)


def worker_env(settings: Settings) -> dict[str, str]:
    """This process's environment with what `hazmat up` decided itself: the URLs (the
    embedded stack's), the fetch wait and the session (tracker.cli.embedded_broker_settings).
    No metrics port: each worker takes the default one or any free one, so several share
    the machine. No secrets a worker does not use (the admin token, the upstream link's)."""
    env = dict(os.environ, HAZMAT_DATABASE_URL=settings.database_url, HAZMAT_KAFKA_BOOTSTRAP=settings.kafka_bootstrap,
               HAZMAT_WORKER_FETCH_WAIT_MS=str(settings.worker.fetch_wait_ms),
               HAZMAT_WORKER_SESSION_TIMEOUT_MS=str(settings.worker.session_timeout_ms),
               HAZMAT_WORKER_HEARTBEAT_MS=str(settings.worker.heartbeat_ms), HAZMAT_UP_PID=str(os.getpid()))
    for name in [n for n in env if n in NOT_FOR_WORKERS or n.startswith("HAZMAT_JT809_UPSTREAM")]:
        del env[name]
    return env


def follow_parent(parent_pid: int) -> None:
    """In a worker `hazmat up` started: SIGTERM when `hazmat up` dies (Linux; elsewhere
    nothing), and out at once if it died before this was asked."""
    try:
        ctypes.CDLL(None, use_errno=True).prctl(PR_SET_PDEATHSIG, signal.SIGTERM, 0, 0, 0)
    except (OSError, AttributeError):
        return
    if os.getppid() != parent_pid:
        raise WorkerExited(f"hazmat up (process {parent_pid}) is gone: this worker it started stops too")


async def _watch(processes: list[asyncio.subprocess.Process]) -> None:
    """Returns never; raises WorkerExited when a worker stops on its own."""
    waits = {asyncio.ensure_future(p.wait()): p for p in processes}
    try:
        done, _ = await asyncio.wait(waits, return_when=asyncio.FIRST_COMPLETED)
    finally:
        for wait in waits:
            wait.cancel()
    process = waits[next(iter(done))]
    raise WorkerExited(f"the stream worker process {process.pid} {ended(process.returncode)}")


def ended(status: int) -> str:
    """How a worker process ended, for the line that takes `hazmat up` down."""
    if status < 0:
        return f"was killed by {signal.Signals(-status).name}"
    if status == 0:
        return "stopped: something outside `hazmat up` stopped it (its log names the signal)"
    return f"exited with status {status} (its log lines above, marked with its process id, say why)"


async def _stop(process: asyncio.subprocess.Process) -> None:
    if process.returncode is None:
        process.send_signal(signal.SIGTERM)
    try:
        await asyncio.wait_for(process.wait(), STOP_WAIT_S)
    except asyncio.TimeoutError:
        log.warning("the stream worker process %d did not stop within %.0f s: killed", process.pid, STOP_WAIT_S)
        process.kill()
        await process.wait()


@asynccontextmanager
async def worker_processes_running(settings: Settings, count: int):
    """`count` `hazmat worker` processes; yields a future that fails when one exits."""
    processes: list[asyncio.subprocess.Process] = []
    try:
        for _ in range(count):
            processes.append(await asyncio.create_subprocess_exec(
                sys.executable, "-m", "tracker.cli", "worker", env=worker_env(settings),
                start_new_session=True))  # Ctrl-C reaches `hazmat up`, which stops them in order
        log.info("stream worker processes started: %s", ", ".join(str(p.pid) for p in processes))
        watch = asyncio.ensure_future(_watch(processes))
        try:
            yield watch
        finally:
            watch.cancel()
            await asyncio.gather(watch, return_exceptions=True)
    finally:
        await asyncio.gather(*(_stop(p) for p in processes))
