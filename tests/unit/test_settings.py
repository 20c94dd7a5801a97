from __future__ import annotations

import os

import pytest

from streams.rules.config import RuleConfig
from tracker.settings import Settings, SettingsError


def test_defaults_are_the_contract_defaults():
    s = Settings.from_env({})
    assert (s.http_port, s.jt808_port, s.topic_prefix, s.database_url, s.kafka_bootstrap) == (
        8080, 7808, "hazmat.", None, None)


def test_environment_is_read_and_checked():
    s = Settings.from_env({"HAZMAT_HTTP_PORT": "9000", "HAZMAT_DATABASE_URL": "postgresql://u@h/db",
                           "HAZMAT_ADMIN_TOKEN": "secret", "HAZMAT_TOPIC_PREFIX": "prod."})
    assert s.http_port == 9000 and s.topic_prefix == "prod."
    assert s.sqlalchemy_url == "postgresql+asyncpg://u@h/db"
    assert "secret" not in repr(s)
    with pytest.raises(SettingsError, match="HAZMAT_HTTP_PORT"):
        Settings.from_env({"HAZMAT_HTTP_PORT": "eighty"})
    with pytest.raises(SettingsError, match="outside"):
        Settings.from_env({"HAZMAT_JT808_PORT": "70000"})
    with pytest.raises(SettingsError, match="TOPIC_PREFIX"):
        Settings.from_env({"HAZMAT_TOPIC_PREFIX": "a b"})


def test_rule_thresholds_come_from_the_environment():
    assert Settings.from_env({}).rules == RuleConfig()
    rules = Settings.from_env({"HAZMAT_RULE_ILLEGAL_PARKING_S": "600", "HAZMAT_RULE_DEFAULT_SPEED_LIMIT_KMH": "70.5",
                               "HAZMAT_RULE_NIGHT_FROM_MIN": "0"}).rules
    assert (rules.illegal_parking_s, rules.default_speed_limit_kmh, rules.night_from_min) == (600, 70.5, 0)
    assert rules.speeding_s == RuleConfig().speeding_s
    with pytest.raises(SettingsError, match="unknown rule setting HAZMAT_RULE_ILLEGAL_PARKIN_S"):
        Settings.from_env({"HAZMAT_RULE_ILLEGAL_PARKIN_S": "600"})
    with pytest.raises(SettingsError, match="not an integer"):
        Settings.from_env({"HAZMAT_RULE_SPEEDING_S": "30.5"})
    with pytest.raises(SettingsError, match="outside"):
        Settings.from_env({"HAZMAT_RULE_NIGHT_TO_MIN": "1440"})
    with pytest.raises(SettingsError, match="positive"):
        Settings.from_env({"HAZMAT_RULE_JUMP_MIN_M": "-1"})


def test_retention_and_kpi_parameters_come_from_the_environment():
    s = Settings.from_env({})
    assert (s.positions_retention_days, s.outbox_retention_days, s.kpis.track_gap_s, s.kpis.track_gap_m) == (
        190, 14, 300, 5000)
    s = Settings.from_env({"HAZMAT_POSITIONS_RETENTION_DAYS": "365", "HAZMAT_KPI_TRACK_GAP_S": "120",
                           "HAZMAT_KPI_DRIFT_MIN_JUMPS": "2"})
    assert (s.positions_retention_days, s.kpis.track_gap_s, s.kpis.drift_min_jumps) == (365, 120, 2)
    with pytest.raises(SettingsError, match="HAZMAT_POSITIONS_RETENTION_DAYS"):
        Settings.from_env({"HAZMAT_POSITIONS_RETENTION_DAYS": "7"})  # inside the late-fix window


def test_jt808_limits_default_to_the_contract_and_come_from_the_environment():
    limits = Settings.from_env({}).jt808
    assert (limits.max_frame_bytes, limits.max_buffer_bytes, limits.idle_s, limits.frames_per_s,
            limits.subpackage_timeout_s, limits.quirks_allowed) == (2100, 65536, 180, 200, 30, False)
    limits = Settings.from_env({"HAZMAT_JT808_IDLE_S": "5", "HAZMAT_JT808_FRAMES_PER_S": "10",
                                "HAZMAT_JT808_QUIRKS": "on"}).jt808
    assert (limits.idle_s, limits.frames_per_s, limits.quirks_allowed) == (5, 10, True)
    with pytest.raises(SettingsError, match="HAZMAT_JT808_MAX_BUFFER_BYTES"):
        Settings.from_env({"HAZMAT_JT808_MAX_BUFFER_BYTES": "10"})
    with pytest.raises(SettingsError, match="HAZMAT_JT808_QUIRKS"):
        Settings.from_env({"HAZMAT_JT808_QUIRKS": "maybe"})


def test_a_heartbeat_slower_than_a_third_of_the_session_is_refused():
    with pytest.raises(SettingsError, match="HAZMAT_WORKER_HEARTBEAT_MS=3000"):
        Settings.from_env({"HAZMAT_WORKER_HEARTBEAT_MS": "3000", "HAZMAT_WORKER_SESSION_TIMEOUT_MS": "6000"})
    assert Settings.from_env({"HAZMAT_WORKER_SESSION_TIMEOUT_MS": "30000"}).worker.session_timeout_ms == 30_000


def test_jt809_upstream_settings():
    assert Settings.from_env({}).jt809_upstream is None
    env = {"HAZMAT_JT809_UPSTREAM": "10.1.2.3:9000", "HAZMAT_JT809_UPSTREAM_USER": "70001",
           "HAZMAT_JT809_UPSTREAM_PASSWORD": "secret", "HAZMAT_JT809_UPSTREAM_ACCESS_CODE": "33010001",
           "HAZMAT_JT809_UPSTREAM_KEYS": "1000,2000,3000"}
    up = Settings.from_env(env).jt809_upstream
    assert (up.host, up.port, up.user_id, up.access_code, up.version, up.keys) == (
        "10.1.2.3", 9000, 70001, 33010001, "2011", (1000, 2000, 3000))
    assert "secret" not in repr(up)
    for bad in ({"HAZMAT_JT809_UPSTREAM": "nohost"}, {"HAZMAT_JT809_UPSTREAM_PASSWORD": "123456789"},
                {"HAZMAT_JT809_UPSTREAM_KEYS": "0,1,2"}, {"HAZMAT_JT809_UPSTREAM_VERSION": "2013"},
                {"HAZMAT_JT809_UPSTREAM_USER": ""}):
        with pytest.raises(SettingsError):
            Settings.from_env({**env, **bad})


def test_reminder_kinds_and_message_time_to_live_come_from_the_environment():
    assert Settings.from_env({}).remind_kinds == ("speeding", "illegal_parking", "no_stopping", "restricted_road",
                                                  "fatigue_driving")
    got = Settings.from_env({"HAZMAT_REMIND_KINDS": " speeding , sos", "HAZMAT_MESSAGE_TTL_S": "60"})
    assert (got.remind_kinds, got.message_ttl_s) == (("speeding", "sos"), 60)
    assert Settings.from_env({"HAZMAT_REMIND_KINDS": ""}).remind_kinds == ()
    for env in ({"HAZMAT_REMIND_KINDS": "speeding,parking"}, {"HAZMAT_MESSAGE_TTL_S": "0"}):
        with pytest.raises(SettingsError):
            Settings.from_env(env)


def test_checkpoint_thresholds_come_from_the_environment():
    got = Settings.from_env({"HAZMAT_CHECKPOINT_MATCH_RADIUS_M": "500", "HAZMAT_CHECKPOINT_WINDOW_MS": "120000",
                             "HAZMAT_CHECKPOINT_MIN_CONFIDENCE": "0.9"}).checkpoints
    assert (got.match_radius_m, got.window_ms, got.min_confidence, got.clone_speed_kmh) == (500, 120_000, 0.9, 150)
    for env in ({"HAZMAT_CHECKPOINT_MIN_CONFIDENCE": "1.5"}, {"HAZMAT_CHECKPOINT_RADIUS_M": "5"},
                {"HAZMAT_CHECKPOINT_CLONE_MIN_M": "-1"}):
        with pytest.raises(SettingsError):
            Settings.from_env(env)


def test_no_environment_gives_the_fields_defaults():
    """Each default is written once, on its field: reading an empty environment changes none."""
    assert Settings.from_env({}) == Settings()


def test_tunables_that_were_fixed_are_settable():
    got = Settings.from_env({"HAZMAT_BROKER_TIMEOUT_S": "30", "HAZMAT_WORKER_CHECKPOINT_EVERY_S": "1800"})
    assert (got.broker_timeout_s, got.worker.checkpoint_every_ms) == (30, 1_800_000)


def test_topic_retention_compression_and_broker_warning_come_from_the_environment():
    s = Settings.from_env({})
    assert (s.topic_retention_hours, s.topic_retention_mb, s.embedded_broker_warn_mb, s.kafka_compression) == (
        168, 0, 512, "gzip")
    s = Settings.from_env({"HAZMAT_TOPIC_RETENTION_HOURS": "24", "HAZMAT_TOPIC_RETENTION_MB": "1024",
                           "HAZMAT_EMBEDDED_BROKER_WARN_MB": "0", "HAZMAT_KAFKA_COMPRESSION": "none"})
    assert (s.topic_retention_hours, s.topic_retention_mb, s.embedded_broker_warn_mb, s.kafka_compression) == (
        24, 1024, 0, "none")
    with pytest.raises(SettingsError, match="HAZMAT_KAFKA_COMPRESSION='lz4': one of gzip, none"):
        Settings.from_env({"HAZMAT_KAFKA_COMPRESSION": "lz4"})
    with pytest.raises(SettingsError, match="HAZMAT_TOPIC_RETENTION_MB=2: 0 \\(no limit\\) or at least 4"):
        Settings.from_env({"HAZMAT_TOPIC_RETENTION_MB": "2"})
    with pytest.raises(SettingsError, match="HAZMAT_TOPIC_RETENTION_HOURS"):
        Settings.from_env({"HAZMAT_TOPIC_RETENTION_HOURS": "0"})


def test_the_embedded_broker_gets_fetch_waits_it_can_answer_within():
    from tracker.cli import embedded_broker_settings

    s = embedded_broker_settings(Settings.from_env({}), "127.0.0.1:9092")
    assert (s.kafka_bootstrap, s.worker.fetch_wait_ms) == ("127.0.0.1:9092", 500)
    assert embedded_broker_settings(Settings.from_env({"HAZMAT_WORKER_FETCH_WAIT_MS": "800"}), "b:1").worker \
        .fetch_wait_ms == 800
    assert embedded_broker_settings(Settings.from_env({"HAZMAT_EMBEDDED_FETCH_WAIT_MS": "0"}), "b:1").worker \
        .fetch_wait_ms == 50


def test_the_embedded_broker_gets_a_session_that_joins_in_two_seconds():
    from tracker.cli import embedded_broker_settings

    assert embedded_broker_settings(Settings.from_env({}), "b:1").worker.session_timeout_ms == 4_000
    assert embedded_broker_settings(Settings.from_env({"HAZMAT_WORKER_SESSION_TIMEOUT_MS": "3000"}), "b:1") \
        .worker.session_timeout_ms == 3_000
    slow = Settings.from_env({"HAZMAT_WORKER_HEARTBEAT_MS": "2000", "HAZMAT_WORKER_SESSION_TIMEOUT_MS": "9000"})
    assert embedded_broker_settings(slow, "b:1").worker.session_timeout_ms == 6_000  # three heartbeats


def test_up_workers_are_counted_or_left_to_the_cores():
    from tracker.worker_processes import default_count, worker_count

    assert Settings.from_env({}).up_workers is None and worker_count(Settings.from_env({})) == default_count()
    assert 1 <= default_count() <= 4
    assert worker_count(Settings.from_env({"HAZMAT_UP_WORKERS": "0"})) == 0
    assert worker_count(Settings.from_env({"HAZMAT_UP_WORKERS": "8", "HAZMAT_TOPIC_PARTITIONS": "2"})) == 2
    with pytest.raises(SettingsError, match="HAZMAT_UP_WORKERS"):
        Settings.from_env({"HAZMAT_UP_WORKERS": "9"})


def test_workers_of_up_get_its_urls_and_none_of_its_secrets(monkeypatch):
    from tracker.worker_processes import worker_env

    monkeypatch.setenv("HAZMAT_ADMIN_TOKEN", "secret-admin")
    monkeypatch.setenv("HAZMAT_JT809_UPSTREAM_PASSWORD", "secret-upstream")
    monkeypatch.setenv("HAZMAT_METRICS_PORT", "9200")
    settings = Settings.from_env({}).with_(database_url="postgresql://u:p@h/db", kafka_bootstrap="b:1")
    env = worker_env(settings)
    assert (env["HAZMAT_DATABASE_URL"], env["HAZMAT_KAFKA_BOOTSTRAP"]) == ("postgresql://u:p@h/db", "b:1")
    assert not {"HAZMAT_ADMIN_TOKEN", "HAZMAT_JT809_UPSTREAM_PASSWORD", "HAZMAT_METRICS_PORT"} & env.keys()
    assert Settings.from_env(env).up_pid == os.getpid()


def test_how_a_worker_process_ended_is_said_plainly():
    from tracker.worker_processes import ended

    assert ended(-9) == "was killed by SIGKILL"
    assert "outside `hazmat up`" in ended(0)
    assert ended(2).startswith("exited with status 2")
