"""docker/compose.yaml without a Docker engine: the YAML parsed (anchors and merges
resolved), every hazmat service's command a real `hazmat` sub-command, every HAZMAT_*
variable one the settings read, health checks, restart policies, order, volumes, and two
workers in one consumer group."""
from __future__ import annotations

import inspect
import re
from dataclasses import fields
from pathlib import Path

import pytest
import yaml

from streams.rules.config import RuleConfig
from tracker import settings as settings_module
from tracker.cli import build_parser

COMPOSE = Path(__file__).resolve().parents[2] / "docker" / "compose.yaml"


@pytest.fixture(scope="module")
def compose() -> dict:
    return yaml.safe_load(COMPOSE.read_text())


def subcommands() -> set[str]:
    parser = build_parser()
    action = next(a for a in parser._actions if a.dest == "command")
    return set(action.choices)


def known_variables() -> set[str]:
    names = set(re.findall(r'"(HAZMAT_[A-Z0-9_]+)"', inspect.getsource(settings_module)))
    return names | {f"{settings_module.RULE_PREFIX}{f.name.upper()}" for f in fields(RuleConfig)}


def hazmat_services(compose: dict) -> dict[str, dict]:
    return {name: s for name, s in compose["services"].items() if "build" in s}


def test_every_hazmat_command_is_a_real_subcommand(compose):
    services = hazmat_services(compose)
    assert services, "no service runs the hazmat image"
    commands = subcommands()
    for name, service in services.items():
        argv = service["command"]
        assert isinstance(argv, list) and argv[0] in commands, (name, argv)
        build_parser().parse_args(argv)  # the options too


def test_every_hazmat_variable_is_one_the_settings_read(compose):
    known = known_variables()
    assert "HAZMAT_POSITIONS_RETENTION_DAYS" in known  # the scan finds the settings' names
    for name, service in hazmat_services(compose).items():
        env = service.get("environment", {})
        assert "HAZMAT_DATABASE_URL" in env and "HAZMAT_KAFKA_BOOTSTRAP" in env, name
        unknown = {k for k in env if k.startswith("HAZMAT_")} - known
        assert not unknown, (name, unknown)


def test_order_health_restart_and_volumes(compose):
    services = compose["services"]
    assert {"kafka", "postgis", "migrate"} <= set(services)
    assert services["migrate"]["command"] == ["migrate"] and services["migrate"]["restart"] == "no"
    assert services["migrate"]["depends_on"]["postgis"]["condition"] == "service_healthy"
    for name, service in services.items():
        if name == "migrate":
            continue
        assert service.get("restart") in ("unless-stopped", "always"), name
        assert service.get("healthcheck", {}).get("test"), name
    for name, service in hazmat_services(compose).items():
        if name != "migrate":
            assert service["depends_on"]["migrate"]["condition"] == "service_completed_successfully", name
            assert service["depends_on"]["kafka"]["condition"] == "service_healthy", name
    declared = set(compose["volumes"])
    for name in ("kafka", "postgis"):
        mounted = {v.split(":")[0] for v in services[name]["volumes"]}
        assert mounted <= declared and mounted, name


def test_two_api_replicas_and_two_workers_of_one_group(compose):
    services = hazmat_services(compose)
    apis = [s for s in services.values() if s["command"][0] == "api"]
    workers = [s for s in services.values() if s["command"][0] == "worker"]
    assert len(apis) >= 2 and len(workers) >= 2
    assert len({s["environment"].get("HAZMAT_WORKER_GROUP", "hazmat-workers") for s in workers}) == 1
    assert len({p for s in apis for p in s.get("ports", [])}) == len([p for s in apis for p in s.get("ports", [])])
    assert any(s["command"][:2] == ["maintain", "--daily"] for s in services.values())


def test_kafka_runs_kraft_with_scram_for_the_agencies(compose):
    env = compose["services"]["kafka"]["environment"]
    assert env["KAFKA_PROCESS_ROLES"] == "broker,controller" and "KAFKA_ZOOKEEPER_CONNECT" not in env
    assert "AGENCY:SASL_PLAINTEXT" in env["KAFKA_LISTENER_SECURITY_PROTOCOL_MAP"]
    assert env["KAFKA_SASL_ENABLED_MECHANISMS"] == "SCRAM-SHA-512"
    assert env["KAFKA_ALLOW_EVERYONE_IF_NO_ACL_FOUND"] == "false"


def test_the_jt809_server_is_published_and_may_report_upstream(compose):
    jt809 = compose["services"]["jt809"]
    assert jt809["command"] == ["jt809"] and jt809["ports"] == ["7809:7809"]
    env = jt809["environment"]
    assert env["HAZMAT_KAFKA_BOOTSTRAP"] == "kafka:9092"  # the shared environment, merged
    assert {"HAZMAT_JT809_UPSTREAM", "HAZMAT_JT809_UPSTREAM_PASSWORD", "HAZMAT_JT809_UPSTREAM_KEYS"} <= set(env)
