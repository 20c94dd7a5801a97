"""Several processes with metrics on one machine: the default port falls back to a free
one; an explicit port that is taken is one clear error, not a traceback."""
from __future__ import annotations

import logging
import socket

import pytest

from tracker.cli import serve_metrics
from tracker.settings import DEFAULT_METRICS_PORT, Settings, SettingsError


@pytest.fixture
def taken_port():
    with socket.socket() as s:
        s.bind(("0.0.0.0", 0))
        s.listen()
        yield s.getsockname()[1]


def test_an_explicit_port_taken_is_one_clear_error(taken_port):
    with pytest.raises(SettingsError, match=f"HAZMAT_METRICS_PORT={taken_port}: .*free port"):
        serve_metrics(Settings(metrics_port=taken_port))


def test_the_default_port_taken_falls_back_to_a_free_one(caplog):
    with socket.socket() as holder:
        try:
            holder.bind(("0.0.0.0", DEFAULT_METRICS_PORT))
        except OSError:
            pass  # another process on this machine holds it already: the same situation
        holder.listen()
        with caplog.at_level(logging.INFO, logger="hazmat"):
            serve_metrics(Settings())
    (line,) = [r.getMessage() for r in caplog.records if "metrics at" in r.getMessage()]
    assert not line.endswith(f":{DEFAULT_METRICS_PORT}/metrics")
