"""`hazmat up` with its stream workers in processes of their own (HAZMAT_UP_WORKERS): they
share the fixes and judge them as one worker would; Ctrl-C stops them with it; one that
dies takes `hazmat up` down with one clear line, and leaves no other worker behind."""
from __future__ import annotations

import asyncio
import os
import re
import signal
import subprocess
import sys
import time

import pytest

from tests.integration.test_worker_reliability import check_outcome
from tests.scenario import (expected_event_ids, fleet_fixes, plates, publish_in_chunks, register_carrier,
                            windows_elsewhere, windows_env)
from tests.waiting import until
from tracker.dev.localstack import free_port
from tracker.db.pool import create_pool
from tracker.serve import create_topics

pytestmark = pytest.mark.integration
STARTED = re.compile(r"stream worker processes started: ([\d, ]+)")


class Up:
    """`hazmat up` on the test's database and broker, its log read on the side."""

    def __init__(self, settings, workers: int, log_path) -> None:
        windows = windows_env(settings.rules)
        env = dict(os.environ, HAZMAT_DATABASE_URL=settings.database_url, HAZMAT_KAFKA_BOOTSTRAP=settings.kafka_bootstrap,
                   HAZMAT_TOPIC_PREFIX=settings.topic_prefix, HAZMAT_TOPIC_PARTITIONS=str(settings.topic_partitions),
                   HAZMAT_WORKER_GROUP=settings.worker_group, HAZMAT_UP_WORKERS=str(workers),
                   HAZMAT_HTTP_PORT=str(free_port()), HAZMAT_JT808_PORT=str(free_port()),
                   HAZMAT_JT809_PORT=str(free_port()), HAZMAT_ADMIN_TOKEN="up-workers-test-token-0123456789",
                   HAZMAT_METRICS_PORT=str(free_port()), **windows)
        self.log_path = log_path
        self.log = open(log_path, "ab")
        self.process = subprocess.Popen([sys.executable, "-m", "tracker.cli", "up"], env=env,
                                        stdout=self.log, stderr=self.log)

    def text(self) -> str:
        self.log.flush()
        return self.log_path.read_text(errors="replace")

    async def workers(self, count: int) -> list[int]:
        """The worker processes' ids, once each of their fix members owns partitions."""
        async def started():
            found = STARTED.search(self.text())
            return found and self.text().count("owns partitions") >= 5 * count and found
        found = await until(started, 60, "the worker processes owning partitions")
        pids = [int(pid) for pid in found.group(1).split(", ")]
        assert len(pids) == count
        return pids

    def stop(self) -> None:
        if self.process.poll() is None:
            self.process.terminate()
            self.process.wait(60)
        self.log.close()


def alive(pid: int) -> bool:
    try:
        with open(f"/proc/{pid}/stat") as stat:
            return stat.read().rsplit(")", 1)[1].split()[0] != "Z"
    except FileNotFoundError:
        return False


async def gone(pids: list[int]) -> None:
    async def all_gone():
        return not any(alive(pid) for pid in pids)
    await until(all_gone, 30, f"worker processes {pids} stopped")


async def test_two_worker_processes_judge_the_fleet_and_stop_with_ctrl_c(own_database, topics, tmp_path):
    settings = own_database.with_(rules=windows_elsewhere(int(time.time() * 1000)))  # (at any hour)
    await create_topics(settings)
    carrier, plate_list = plates(16)
    await register_carrier(settings.database_url, carrier)
    fixes = fleet_fixes(plate_list, carrier)
    expected = expected_event_ids(fixes, settings.rules)
    up, pool = Up(settings, 2, tmp_path / "up.log"), await create_pool(settings.asyncpg_dsn)
    try:
        pids = await up.workers(2)
        assert all(alive(pid) for pid in pids) and up.process.pid not in pids
        await publish_in_chunks(settings.kafka_bootstrap, topics.fixes, fixes, 4, 0.2)
        await check_outcome(settings, topics, pool, fixes, expected)  # the same events as one worker's
        owners = await pool.fetchval("SELECT count(DISTINCT partition) FROM consumer_offsets WHERE group_id = $1",
                                     settings.worker_group)
        assert owners == settings.topic_partitions
        up.process.send_signal(signal.SIGINT)
        assert await asyncio.to_thread(up.process.wait, 60) == 0, up.text()[-3000:]
        await gone(pids)
        assert "exited with status" not in up.text()
    except AssertionError:
        print(up.text()[-6000:])
        raise
    finally:
        up.stop()
        await pool.close()


async def test_a_worker_process_that_dies_takes_up_down_with_one_line(own_database, tmp_path):
    await create_topics(own_database)
    up = Up(own_database, 2, tmp_path / "up.log")
    try:
        pids = await up.workers(2)
        os.kill(pids[0], signal.SIGKILL)
        assert await asyncio.to_thread(up.process.wait, 60) == 2
        assert f"hazmat: the stream worker process {pids[0]} was killed by SIGKILL" in up.text()
        await gone(pids)  # the other one stopped with it
    finally:
        up.stop()


async def test_workers_stop_when_up_is_killed(own_database, tmp_path):
    """`hazmat up` killed outright (no chance to stop them): its workers get SIGTERM from the kernel."""
    await create_topics(own_database)
    up = Up(own_database, 1, tmp_path / "up.log")
    try:
        pids = await up.workers(1)
        up.process.kill()
        up.process.wait(10)
        await gone(pids)
    finally:
        up.stop()
