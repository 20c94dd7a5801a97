from __future__ import annotations

import pytest

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
