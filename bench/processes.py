"""Real `hazmat worker` processes for the benchmarks (bench.start, bench.worker): started
with a given environment, their log read on a thread (for when each member owns its
partitions; a pipe nobody reads would stop the worker once full), their CPU from /proc."""
from __future__ import annotations

import os
import re
import subprocess
import sys
import threading
import time

OWNS = re.compile(r"(\S+) owns partitions")


class WorkerProcess:
    def __init__(self, env: dict) -> None:
        self.started = time.perf_counter()
        self.process = subprocess.Popen([sys.executable, "-m", "tracker.cli", "worker"], env=env,
                                        stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
        self.owned: dict[str, float] = {}  # group -> seconds from start until it first owned partitions
        self.last = ""  # its last log line, to say why it stopped
        threading.Thread(target=self._read_log, daemon=True).start()

    def _read_log(self) -> None:
        for line in self.process.stderr:
            self.last = line.strip()
            match = OWNS.search(line)
            if match:
                self.owned.setdefault(match.group(1), time.perf_counter() - self.started)

    def wait_owning(self, groups: int, timeout_s: float = 300) -> float:
        """Seconds from start until `groups` members each logged owning partitions."""
        deadline = time.perf_counter() + timeout_s
        while len(self.owned) < groups:
            if self.process.poll() is not None:
                raise RuntimeError(f"the worker exited ({self.process.returncode}): {self.last}")
            if time.perf_counter() > deadline:
                raise RuntimeError(f"the worker's members did not own partitions within {timeout_s} s: {self.last}")
            time.sleep(0.01)
        return max(self.owned.values())

    def cpu_s(self) -> float:
        """User and system CPU seconds so far."""
        with open(f"/proc/{self.process.pid}/stat") as stat:
            fields = stat.read().rsplit(")", 1)[1].split()
        return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")

    def stop(self) -> None:
        self.process.terminate()
        self.process.wait(60)
