"""The one place that reads configuration: typed, validated, from `HAZMAT_*`.

Nothing here runs at import time; `Settings.from_env()` is called by the CLI and
the result is handed to everything else, so tests build their own settings.
"""
from __future__ import annotations

import os
from dataclasses import dataclass, field, fields, replace
from pathlib import Path

from streams.rules.config import RuleConfig


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


RULE_PREFIX = "HAZMAT_RULE_"


def _rules(env: dict[str, str]) -> RuleConfig:
    """Rule thresholds from `HAZMAT_RULE_<FIELD>` (e.g. HAZMAT_RULE_ILLEGAL_PARKING_S=600);
    an unknown name is an error, not a silently ignored typo."""
    known = {f"{RULE_PREFIX}{f.name.upper()}": f for f in fields(RuleConfig)}
    unknown = sorted(k for k in env if k.startswith(RULE_PREFIX) and k not in known)
    if unknown:
        raise SettingsError(f"unknown rule setting {', '.join(unknown)}; known: {', '.join(sorted(known))}")
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
    return replace(RuleConfig(), **changes)


@dataclass(frozen=True)
class Settings:
    database_url: str | None = None
    kafka_bootstrap: str | None = None
    http_host: str = "0.0.0.0"
    http_port: int = 8080
    jt808_port: int = 7808
    admin_token: str | None = field(default=None, repr=False)
    topic_prefix: str = "hazmat."
    data_dir: Path = Path(".hazmat")
    # Partitions of every topic the system creates; more partitions allow more workers.
    topic_partitions: int = 8
    max_body_bytes: int = 8 * 1024 * 1024
    max_batch_items: int = 10_000
    # How long an HTTP intake waits for the broker's acknowledgement before a 503.
    broker_timeout_s: float = 10.0
    worker_group: str = "hazmat-workers"
    metrics_port: int = 9108  # `hazmat worker` serves /metrics here (the API serves its own)
    # How often a process re-reads the registry written by other processes.
    registry_refresh_s: float = 5.0
    rules: RuleConfig = RuleConfig()  # CONTRACTS.md thresholds unless HAZMAT_RULE_* says otherwise

    @classmethod
    def from_env(cls, env: dict[str, str] | None = None) -> "Settings":
        env = dict(os.environ if env is None else env)
        prefix = env.get("HAZMAT_TOPIC_PREFIX", "hazmat.")
        if prefix and not all(c.isalnum() or c in "._-" for c in prefix):
            raise SettingsError(f"HAZMAT_TOPIC_PREFIX={prefix!r}: only letters, digits, '.', '_', '-'")
        return cls(
            database_url=env.get("HAZMAT_DATABASE_URL") or None,
            kafka_bootstrap=env.get("HAZMAT_KAFKA_BOOTSTRAP") or None,
            http_host=env.get("HAZMAT_HTTP_HOST") or "0.0.0.0",
            http_port=_int(env, "HAZMAT_HTTP_PORT", 8080, 0, 65535),
            jt808_port=_int(env, "HAZMAT_JT808_PORT", 7808, 0, 65535),
            admin_token=env.get("HAZMAT_ADMIN_TOKEN") or None,
            topic_prefix=prefix,
            data_dir=Path(env.get("HAZMAT_DATA_DIR") or ".hazmat"),
            topic_partitions=_int(env, "HAZMAT_TOPIC_PARTITIONS", 8, 1, 1024),
            worker_group=env.get("HAZMAT_WORKER_GROUP") or "hazmat-workers",
            metrics_port=_int(env, "HAZMAT_METRICS_PORT", 9108, 0, 65535),
            max_body_bytes=_int(env, "HAZMAT_MAX_BODY_BYTES", 8 * 1024 * 1024, 1024, 256 * 1024 * 1024),
            rules=_rules(env),
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
