"""The one place that reads configuration: typed, validated, from `HAZMAT_*`.

Nothing here runs at import time; `Settings.from_env()` is called by the CLI and
the result is handed to everything else, so tests build their own settings.
"""
from __future__ import annotations

import os
import re
from dataclasses import dataclass, field, fields, replace
from pathlib import Path

from checkpoints.checks import ReadConfig
from streams.reminders import DEFAULT_REMIND_KINDS
from streams.rules.config import RuleConfig
from streams.vocabulary import VIOLATION_KINDS
from tracker.reports.definitions import KpiParams


class SettingsError(ValueError):
    """A `HAZMAT_*` variable has a value the system cannot run with."""


def _int(env: dict[str, str], name: str, default: int, lo: int, hi: int) -> int:
    raw = env.get(name)
    if raw is None or raw == "":
        return default
    try:
        value = int(raw)
    except ValueError:
        raise SettingsError(f"{name}={raw!r} is not an integer") from None
    if not lo <= value <= hi:
        raise SettingsError(f"{name}={value} is outside {lo}..{hi}")
    return value


def _size_mb(env: dict[str, str], name: str, default: int, lo: int) -> int:
    """Megabytes, at least `lo`, or 0 for "no limit"."""
    value = _int(env, name, default, 0, 1 << 30)
    if 0 < value < lo:
        raise SettingsError(f"{name}={value}: 0 (no limit) or at least {lo}")
    return value


def _flag(env: dict[str, str], name: str, default: bool) -> bool:
    raw = (env.get(name) or "").strip().lower()
    if raw == "":
        return default
    if raw in ("1", "true", "yes", "on"):
        return True
    if raw in ("0", "false", "no", "off"):
        return False
    raise SettingsError(f"{name}={raw!r}: use 1/0, true/false, yes/no or on/off")


def _choice(env: dict[str, str], name: str, choices: tuple[str, ...]) -> str:
    raw = (env.get(name) or choices[0]).strip().lower()
    if raw not in choices:
        raise SettingsError(f"{name}={raw!r}: one of {', '.join(choices)}")
    return raw


def _kinds(env: dict[str, str], name: str, default: tuple[str, ...]) -> tuple[str, ...]:
    """A comma-separated list of violation kinds (empty: none)."""
    raw = env.get(name)
    if raw is None:
        return default
    kinds = tuple(k.strip() for k in raw.split(",") if k.strip())
    unknown = [k for k in kinds if k not in VIOLATION_KINDS]
    if unknown:
        raise SettingsError(f"{name}: unknown violation kind(s) {', '.join(unknown)}")
    return kinds


def _basemap_url(raw: str | None) -> str | None:
    """A tile URL template the browser can fetch: http(s), a plain host ({s} for a
    subdomain allowed), {z} {x} {y}."""
    if raw is None:
        return None
    scheme, _, rest = raw.partition("://")
    host = rest.split("/", 1)[0].split("?", 1)[0]
    if (scheme not in ("http", "https") or not re.fullmatch(r"[A-Za-z0-9.{}-]+(:[0-9]{1,5})?", host)
            or any(part not in raw for part in ("{z}", "{x}", "{y}")) or any(c in raw for c in " \"'<>\\")):
        raise SettingsError(f"HAZMAT_BASEMAP_URL={raw!r}: an http(s) tile URL template with {{z}}, {{x}} and {{y}}")
    return raw


RULE_PREFIX = "HAZMAT_RULE_"
CHECKPOINT_PREFIX = "HAZMAT_CHECKPOINT_"


def _rules(env: dict[str, str]) -> RuleConfig:
    """Rule thresholds from `HAZMAT_RULE_<FIELD>` (e.g. HAZMAT_RULE_ILLEGAL_PARKING_S=600);
    an unknown name is an error, not a silently ignored typo."""
    return _thresholds(env, RULE_PREFIX, RuleConfig, "rule")


def _checkpoints(env: dict[str, str]) -> ReadConfig:
    """The plate reads' thresholds from `HAZMAT_CHECKPOINT_<FIELD>` (checkpoints/checks.py)."""
    config = _thresholds(env, CHECKPOINT_PREFIX, ReadConfig, "checkpoint")
    if config.min_confidence > 1:
        raise SettingsError(f"{CHECKPOINT_PREFIX}MIN_CONFIDENCE={config.min_confidence}: a confidence is 0..1")
    return config


def _thresholds(env: dict[str, str], prefix: str, cls, what: str):
    """A dataclass of thresholds from `<prefix><FIELD>`: ints whole and at least 1 (`_min`
    fields minutes after local midnight), floats positive."""
    known = {f"{prefix}{f.name.upper()}": f for f in fields(cls)}
    unknown = sorted(k for k in env if k.startswith(prefix) and k not in known)
    if unknown:
        raise SettingsError(f"unknown {what} setting {', '.join(unknown)}; known: {', '.join(sorted(known))}")
    changes = {}
    for name, f in known.items():
        raw = env.get(name)
        if raw is None or raw == "":
            continue
        if f.name.endswith("_min"):  # minutes after local midnight
            changes[f.name] = _int(env, name, 0, 0, 24 * 60 - 1)
        elif f.type == "int":
            changes[f.name] = _int(env, name, 0, 1, 10**7)
        else:
            try:
                changes[f.name] = float(raw)
            except ValueError:
                raise SettingsError(f"{name}={raw!r} is not a number") from None
            if not 0 < changes[f.name] < 1e7:
                raise SettingsError(f"{name}={raw} must be positive")
    return replace(cls(), **changes)


@dataclass(frozen=True)
class WorkerTuning:
    """How a worker takes its topic; bench/RESULTS.md says how each default was measured."""

    # Records a poll may bring: larger polls spread the per-batch work (a snapshot and an
    # upsert of each vehicle touched, the offsets) over more records.
    batch: int = 40_000
    # A poll is processed in chunks of about this many: a chunk's fixes stay in the CPU's
    # cache from decoding through the rules to the rows.
    chunk: int = 8_000
    # Per partition and fetch (the client's default 1 MB kept polls small).
    fetch_partition_bytes: int = 4 << 20
    # How long the broker holds a fetch waiting for data (the workers' and the live feed's):
    # most of the latency from fix to violation event when traffic is light.
    fetch_wait_ms: int = 50
    # Geofences and waybills are re-read before a batch when older than this (and at once
    # when PostgreSQL notifies a change): the contract allows 2 s.
    references_max_age_s: float = 1.0
    # A batch that fails for a reason other than an outage is retried in ever smaller
    # pieces; a single message that fails this many times is dead-lettered.
    attempts: int = 3
    # Rule-state checkpoints for late fixes: one per this much event time of a vehicle.
    checkpoint_every_ms: int = 3_600_000
    # A partition that brought no records for this long (and whose end the broker reported
    # reached) is quiet: its timers go on at the wall clock's pace (streams.clock). Longer
    # than any pause between fetches of a partition with a backlog.
    # The consumer group's session: a member silent this long is dropped. The embedded
    # broker completes a join after about half of it (bench/start.py), so it bounds how
    # long a start or a rebalance leaves partitions unowned; Apache Kafka's minimum is 6 s.
    session_timeout_ms: int = 6_000
    heartbeat_ms: int = 1_000
    quiet_s: float = 10.0
    # A check waiting for a vehicle's track (filling presence) whose partition is quiet is
    # decided this long after its window's end, for late uploads to arrive.
    window_wait_ms: int = 600_000


def _checked_tuning(tuning: "WorkerTuning") -> "WorkerTuning":
    if tuning.heartbeat_ms * 3 > tuning.session_timeout_ms:
        raise SettingsError(f"HAZMAT_WORKER_HEARTBEAT_MS={tuning.heartbeat_ms} must be at most a third of "
                            f"HAZMAT_WORKER_SESSION_TIMEOUT_MS={tuning.session_timeout_ms}")
    return tuning


@dataclass(frozen=True)
class Jt808Limits:
    """The JT/T 808 gateway's per-connection limits (docs/jt808.md "Limits"); past one the
    connection is closed with the reason logged and counted."""

    max_frame_bytes: int = 2100  # one frame on the wire, delimiters and escapes included
    max_buffer_bytes: int = 64 * 1024  # bytes received and not yet framed
    idle_s: float = 180.0  # no byte for this long: closed
    frames_per_s: int = 200
    # Subpackages of a message missing this long are asked for again (0x8003).
    subpackage_timeout_s: float = 30.0
    # Also take frames with a wrong checksum or length field (a real device's quirk, see
    # tracker.jt808.codec), counted and logged; off: refused with result 2, as the contract
    # says. The harmless quirks (2013 header with the 2019 flag, raw 7D checksum) are always taken.
    quirks_allowed: bool = False


DEFAULT_METRICS_PORT = 9108


@dataclass(frozen=True)
class Jt809Limits:
    """Limits of each JT/T 809 link (docs/jt809.md); past frame size, buffer, idle or rate
    the link is closed with the reason logged and counted. One link carries a whole
    carrier's fleet, hence a higher frame rate than a terminal's."""

    max_frame_bytes: int = 8192  # one frame on the wire, flags and escapes included
    max_buffer_bytes: int = 64 * 1024
    idle_s: float = 180.0
    frames_per_s: int = 2000
    # A wrong login is answered after this delay, and the link closed after this many:
    # guessing an 8-byte password costs a connection per few tries and a second per try.
    login_failure_delay_s: float = 1.0
    max_login_failures: int = 5


@dataclass(frozen=True)
class Upstream:
    """The provincial platform this system reports to as a sub-platform (docs/jt809.md)."""

    host: str
    port: int
    user_id: int
    password: str = field(repr=False)
    access_code: int
    version: str = "2011"
    keys: tuple[int, int, int] | None = field(default=None, repr=False)
    group: str = "hazmat-jt809-upstream"
    max_per_s: int = 500  # frames sent per second at most
    heartbeat_s: float = 60.0


def _upstream(env: dict[str, str]) -> Upstream | None:
    raw = env.get("HAZMAT_JT809_UPSTREAM") or ""
    if not raw:
        return None
    host, _, port = raw.rpartition(":")
    if not host or not port.isdigit() or not 0 < int(port) < 65536:
        raise SettingsError(f"HAZMAT_JT809_UPSTREAM={raw!r}: host:port")
    missing = [n for n in ("USER", "PASSWORD", "ACCESS_CODE") if not env.get(f"HAZMAT_JT809_UPSTREAM_{n}")]
    if missing:
        raise SettingsError(f"HAZMAT_JT809_UPSTREAM needs {', '.join('HAZMAT_JT809_UPSTREAM_' + n for n in missing)}")
    password = env["HAZMAT_JT809_UPSTREAM_PASSWORD"]
    try:
        if len(password.encode("gbk")) > 8:
            raise SettingsError("HAZMAT_JT809_UPSTREAM_PASSWORD: at most 8 bytes")
    except UnicodeEncodeError:
        raise SettingsError("HAZMAT_JT809_UPSTREAM_PASSWORD: GBK text") from None
    keys = None
    if env.get("HAZMAT_JT809_UPSTREAM_KEYS"):
        parts = env["HAZMAT_JT809_UPSTREAM_KEYS"].split(",")
        if len(parts) != 3 or not all(p.strip().isdigit() for p in parts):
            raise SettingsError("HAZMAT_JT809_UPSTREAM_KEYS: three integers m1,ia1,ic1")
        keys = tuple(int(p) for p in parts)
        if not (0 < keys[0] < 1 << 32 and keys[1] < 1 << 32 and keys[2] < 1 << 32):
            raise SettingsError("HAZMAT_JT809_UPSTREAM_KEYS: M1 1..2**32-1, IA1 and IC1 0..2**32-1")
    return Upstream(host.strip("[]"), int(port), _int(env, "HAZMAT_JT809_UPSTREAM_USER", 0, 0, 2**32 - 1), password,
                    _int(env, "HAZMAT_JT809_UPSTREAM_ACCESS_CODE", 0, 0, 2**32 - 1),
                    _choice(env, "HAZMAT_JT809_UPSTREAM_VERSION", ("2011", "2019")), keys,
                    env.get("HAZMAT_JT809_UPSTREAM_GROUP") or "hazmat-jt809-upstream",
                    _int(env, "HAZMAT_JT809_UPSTREAM_MAX_PER_S", 500, 1, 100_000))


@dataclass(frozen=True)
class Settings:
    database_url: str | None = None
    kafka_bootstrap: str | None = None
    http_host: str = "0.0.0.0"
    http_port: int = 8080
    jt808_host: str = "0.0.0.0"
    jt808_port: int = 7808
    jt808: Jt808Limits = Jt808Limits()
    jt809_host: str = "0.0.0.0"
    jt809_port: int = 7809
    jt809: Jt809Limits = Jt809Limits()
    jt809_upstream: Upstream | None = None
    admin_token: str | None = field(default=None, repr=False)
    topic_prefix: str = "hazmat."
    data_dir: Path = Path(".hazmat")
    # Partitions of every topic the system creates; more partitions allow more workers.
    topic_partitions: int = 8
    # Retention the topics are created with (streams/topics.py retention_configs): hours, and
    # MB per partition (0: time alone). PostGIS, not Kafka, is the record.
    # Producer batches compressed ("gzip") or not ("none"): gzip halves what the embedded
    # broker holds and costs the API ~3 us a fix (bench/RESULTS.md, soak).
    kafka_compression: str = "gzip"
    topic_retention_hours: int = 168
    topic_retention_mb: int = 0
    # `hazmat up` warns when its embedded broker's resident memory passes this (0: never).
    embedded_broker_warn_mb: int = 512
    # The least fetch wait on the embedded broker: it answers a fetch it cannot finish within
    # the wait with nothing, and its fetches slow down with the batches they walk
    # (docs/operations.md), so a short wait starves consumers within hours.
    embedded_fetch_wait_ms: int = 500
    # `hazmat up`'s stream workers as processes of their own, at most 8 and at most the
    # partitions (0: inside its one process; None: half the cores, 1 to 4:
    # tracker.worker_processes; the embedded PostgreSQL's 200 connections allow 8).
    up_workers: int | None = None
    # Set by `hazmat up` for the workers it starts (not by hand): its process id, which a
    # worker follows out (tracker.worker_processes.follow_parent).
    up_pid: int | None = None
    max_body_bytes: int = 8 * 1024 * 1024
    max_batch_items: int = 10_000
    # How long an HTTP intake waits for the broker's acknowledgement before a 503.
    broker_timeout_s: float = 10.0
    worker_group: str = "hazmat-workers"
    event_loop: str = "asyncio"  # or "uvloop"
    # `hazmat worker` / `jt808` / `maintain --daily` serve /metrics here (the API serves its own);
    # None: DEFAULT_METRICS_PORT, or any free port when another process holds it.
    metrics_port: int | None = None
    # How often a process re-reads the registry written by other processes.
    registry_refresh_s: float = 5.0
    # The console's basemap: a tile URL template ({z}/{x}/{y}, optional {s}) and its datum.
    # None: a vector-only map that contacts no other origin.
    basemap_url: str | None = None
    basemap_crs: str = "gcj02"
    # Where `npm ci` put the console's browser libraries (node_modules); None: the checkout's.
    console_assets: Path | None = None
    rules: RuleConfig = RuleConfig()  # docs/rules.md thresholds unless HAZMAT_RULE_* says otherwise
    # Stored fixes (and dead letters) are kept this long, whole day partitions at a time;
    # the regulation asks for at least 6 months. Violations are never dropped by it.
    positions_retention_days: int = 190
    # Published outbox rows are kept this long (a replay of late fixes asks the outbox which
    # events left already, for fixes up to 7 days late).
    outbox_retention_days: int = 14
    kpis: KpiParams = KpiParams()  # the bureaus' figures' thresholds (HAZMAT_KPI_*)
    worker: WorkerTuning = WorkerTuning()
    checkpoints: ReadConfig = ReadConfig()  # the plate reads' thresholds (HAZMAT_CHECKPOINT_*)
    # Violation kinds whose opening sends the vehicle's terminal a reminder (0x8300).
    remind_kinds: tuple[str, ...] = DEFAULT_REMIND_KINDS
    # A text to a terminal not connected waits this long, then is `expired`.
    message_ttl_s: int = 600

    @classmethod
    def from_env(cls, env: dict[str, str] | None = None) -> "Settings":
        env = dict(os.environ if env is None else env)
        # Each default is written once, on its field; the environment overrides it.
        d, j8, j9, k, w = cls(), Jt808Limits(), Jt809Limits(), KpiParams(), WorkerTuning()
        prefix = env.get("HAZMAT_TOPIC_PREFIX", "hazmat.")
        if prefix and not all(c.isalnum() or c in "._-" for c in prefix):
            raise SettingsError(f"HAZMAT_TOPIC_PREFIX={prefix!r}: only letters, digits, '.', '_', '-'")
        return cls(
            database_url=env.get("HAZMAT_DATABASE_URL") or None,
            kafka_bootstrap=env.get("HAZMAT_KAFKA_BOOTSTRAP") or None,
            http_host=env.get("HAZMAT_HTTP_HOST") or d.http_host,
            http_port=_int(env, "HAZMAT_HTTP_PORT", d.http_port, 0, 65535),
            jt808_host=env.get("HAZMAT_JT808_HOST") or d.jt808_host,
            jt808_port=_int(env, "HAZMAT_JT808_PORT", d.jt808_port, 0, 65535),
            jt808=Jt808Limits(
                max_frame_bytes=_int(env, "HAZMAT_JT808_MAX_FRAME_BYTES", j8.max_frame_bytes, 64, 1 << 20),
                max_buffer_bytes=_int(env, "HAZMAT_JT808_MAX_BUFFER_BYTES", j8.max_buffer_bytes, 4096, 16 << 20),
                idle_s=_int(env, "HAZMAT_JT808_IDLE_S", j8.idle_s, 1, 86_400),
                frames_per_s=_int(env, "HAZMAT_JT808_FRAMES_PER_S", j8.frames_per_s, 1, 1_000_000),
                subpackage_timeout_s=_int(env, "HAZMAT_JT808_SUBPACKAGE_TIMEOUT_S", j8.subpackage_timeout_s, 1,
                                          3600),
                quirks_allowed=_flag(env, "HAZMAT_JT808_QUIRKS", j8.quirks_allowed),
            ),
            jt809_host=env.get("HAZMAT_JT809_HOST") or d.jt809_host,
            jt809_port=_int(env, "HAZMAT_JT809_PORT", d.jt809_port, 0, 65535),
            jt809=Jt809Limits(
                max_frame_bytes=_int(env, "HAZMAT_JT809_MAX_FRAME_BYTES", j9.max_frame_bytes, 64, 1 << 20),
                max_buffer_bytes=_int(env, "HAZMAT_JT809_MAX_BUFFER_BYTES", j9.max_buffer_bytes, 4096, 16 << 20),
                idle_s=_int(env, "HAZMAT_JT809_IDLE_S", j9.idle_s, 1, 86_400),
                frames_per_s=_int(env, "HAZMAT_JT809_FRAMES_PER_S", j9.frames_per_s, 1, 1_000_000),
                max_login_failures=_int(env, "HAZMAT_JT809_MAX_LOGIN_FAILURES", j9.max_login_failures, 1, 1000),
            ),
            jt809_upstream=_upstream(env),
            admin_token=env.get("HAZMAT_ADMIN_TOKEN") or None,
            topic_prefix=prefix,
            data_dir=Path(env["HAZMAT_DATA_DIR"]) if env.get("HAZMAT_DATA_DIR") else d.data_dir,
            topic_partitions=_int(env, "HAZMAT_TOPIC_PARTITIONS", d.topic_partitions, 1, 1024),
            kafka_compression=_choice(env, "HAZMAT_KAFKA_COMPRESSION", ("gzip", "none")),
            topic_retention_hours=_int(env, "HAZMAT_TOPIC_RETENTION_HOURS", d.topic_retention_hours, 1, 87_600),
            topic_retention_mb=_size_mb(env, "HAZMAT_TOPIC_RETENTION_MB", d.topic_retention_mb, 4),
            embedded_broker_warn_mb=_size_mb(env, "HAZMAT_EMBEDDED_BROKER_WARN_MB", d.embedded_broker_warn_mb, 64),
            embedded_fetch_wait_ms=_int(env, "HAZMAT_EMBEDDED_FETCH_WAIT_MS", d.embedded_fetch_wait_ms, 0, 10_000),
            up_workers=_int(env, "HAZMAT_UP_WORKERS", 0, 0, 8) if env.get("HAZMAT_UP_WORKERS") else None,
            up_pid=_int(env, "HAZMAT_UP_PID", 0, 1, 2**22) if env.get("HAZMAT_UP_PID") else None,
            worker_group=env.get("HAZMAT_WORKER_GROUP") or d.worker_group,
            metrics_port=_int(env, "HAZMAT_METRICS_PORT", 0, 0, 65535) if env.get("HAZMAT_METRICS_PORT") else None,
            event_loop=_choice(env, "HAZMAT_EVENT_LOOP", ("asyncio", "uvloop")),
            max_body_bytes=_int(env, "HAZMAT_MAX_BODY_BYTES", d.max_body_bytes, 1024, 256 * 1024 * 1024),
            broker_timeout_s=_int(env, "HAZMAT_BROKER_TIMEOUT_S", int(d.broker_timeout_s), 1, 600),
            basemap_url=_basemap_url(env.get("HAZMAT_BASEMAP_URL") or None),
            basemap_crs=_choice(env, "HAZMAT_BASEMAP_CRS", ("gcj02", "wgs84")),
            console_assets=Path(env["HAZMAT_CONSOLE_ASSETS"]) if env.get("HAZMAT_CONSOLE_ASSETS") else None,
            rules=_rules(env),
            positions_retention_days=_int(env, "HAZMAT_POSITIONS_RETENTION_DAYS", d.positions_retention_days, 8,
                                          100_000),
            outbox_retention_days=_int(env, "HAZMAT_OUTBOX_RETENTION_DAYS", d.outbox_retention_days, 8, 100_000),
            kpis=KpiParams(
                track_gap_s=_int(env, "HAZMAT_KPI_TRACK_GAP_S", k.track_gap_s, 1, 86_400),
                track_gap_m=_int(env, "HAZMAT_KPI_TRACK_GAP_M", k.track_gap_m, 1, 1_000_000),
                drift_min_jumps=_int(env, "HAZMAT_KPI_DRIFT_MIN_JUMPS", k.drift_min_jumps, 1, 1_000_000),
                max_speed_kmh=_int(env, "HAZMAT_KPI_MAX_SPEED_KMH", k.max_speed_kmh, 1, 250),
            ),
            checkpoints=_checkpoints(env),
            remind_kinds=_kinds(env, "HAZMAT_REMIND_KINDS", DEFAULT_REMIND_KINDS),
            message_ttl_s=_int(env, "HAZMAT_MESSAGE_TTL_S", d.message_ttl_s, 1, 86_400),
            worker=_checked_tuning(WorkerTuning(
                batch=_int(env, "HAZMAT_WORKER_BATCH", w.batch, 1, 1_000_000),
                chunk=_int(env, "HAZMAT_WORKER_CHUNK", w.chunk, 1, 1_000_000),
                fetch_partition_bytes=_int(env, "HAZMAT_WORKER_FETCH_PARTITION_BYTES", w.fetch_partition_bytes,
                                           1 << 16, 1 << 30),
                fetch_wait_ms=_int(env, "HAZMAT_WORKER_FETCH_WAIT_MS", w.fetch_wait_ms, 0, 10_000),
                attempts=_int(env, "HAZMAT_WORKER_ATTEMPTS", w.attempts, 1, 100),
                session_timeout_ms=_int(env, "HAZMAT_WORKER_SESSION_TIMEOUT_MS", w.session_timeout_ms, 1_000,
                                        300_000),
                heartbeat_ms=_int(env, "HAZMAT_WORKER_HEARTBEAT_MS", w.heartbeat_ms, 100, 100_000),
                quiet_s=_int(env, "HAZMAT_WORKER_QUIET_S", w.quiet_s, 1, 3600),
                window_wait_ms=_int(env, "HAZMAT_WORKER_WINDOW_WAIT_S", w.window_wait_ms // 1000, 0, 86_400) * 1000,
                checkpoint_every_ms=_int(env, "HAZMAT_WORKER_CHECKPOINT_EVERY_S", w.checkpoint_every_ms // 1000, 60,
                                         86_400) * 1000,
            )),
        )

    def with_(self, **changes) -> "Settings":
        return replace(self, **changes)

    @property
    def asyncpg_dsn(self) -> str:
        """The URL as asyncpg wants it (SQLAlchemy-style driver suffixes removed)."""
        if not self.database_url:
            raise SettingsError("no database URL: set HAZMAT_DATABASE_URL or run `hazmat up`")
        return self.database_url.replace("postgresql+asyncpg://", "postgresql://", 1)

    @property
    def sqlalchemy_url(self) -> str:
        return self.asyncpg_dsn.replace("postgresql://", "postgresql+asyncpg://", 1).replace(
            "postgres://", "postgresql+asyncpg://", 1
        )
