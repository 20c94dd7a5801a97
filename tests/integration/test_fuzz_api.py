"""Schemathesis over the served OpenAPI document, once per role, against a real `hazmat api`
process on the real PostGIS and broker: no generated request may get a 5xx, a status or
content type the document does not list, or a body off its schema; after each role's
run the process is alive and ready.

The hooks in tests/fuzz_hooks.py add the values random generation seldom reaches: dates
at the ends of the calendar, control characters in query and path values, the fleet's
plates and carriers.
The budget is HAZMAT_FUZZ_SECONDS per role (a few seconds in `make test`; `make fuzz`
runs minutes with a random seed). A failure prints Schemathesis' reproduction: a curl
command and its seed."""
from __future__ import annotations

import asyncio
import json
import os
import subprocess
import sys
from datetime import date, timedelta
from pathlib import Path

import aiohttp
import pytest

from tests.client import fleet_body
from tracker.auth import ADMIN, AGENCY, CAMERA, GATEWAY, OPERATOR, STATION, insert_token, new_token
from tracker.db.pool import create_pool
from tracker.dev.localstack import free_port
from tracker.serve import create_topics

pytestmark = pytest.mark.integration

SECONDS = int(os.environ.get("HAZMAT_FUZZ_SECONDS", "12"))
SEED = os.environ.get("HAZMAT_FUZZ_SEED", "20261203")  # "random": Schemathesis picks one and prints it
PHASES = os.environ.get("HAZMAT_FUZZ_PHASES", "examples,coverage,fuzzing")  # `make fuzz` adds stateful
CHECKS = "not_a_server_error,status_code_conformance,content_type_conformance,response_schema_conformance"
ST = Path(sys.executable).with_name("st")
HOOKS = Path(__file__).parents[1] / "fuzz_hooks.py"


async def _ready(url: str, process: subprocess.Popen, log: Path, timeout_s: float = 60) -> None:
    async with aiohttp.ClientSession() as session:
        for _ in range(int(timeout_s * 10)):
            assert process.poll() is None, f"hazmat api exited:\n{log.read_text()[-3000:]}"
            try:
                async with session.get(f"{url}/readyz") as response:
                    if response.status == 200:
                        return
            except aiohttp.ClientError:
                pass
            await asyncio.sleep(0.1)
    raise AssertionError(f"hazmat api not ready:\n{log.read_text()[-3000:]}")


async def test_schemathesis_finds_nothing_for_any_role(settings, tmp_path):
    await create_topics(settings)
    port = free_port()
    url = f"http://127.0.0.1:{port}"
    env = dict(os.environ, HAZMAT_DATABASE_URL=settings.database_url, HAZMAT_KAFKA_BOOTSTRAP=settings.kafka_bootstrap,
               HAZMAT_TOPIC_PREFIX=settings.topic_prefix, HAZMAT_HTTP_PORT=str(port), HAZMAT_METRICS_PORT="0")
    log = tmp_path / "api.log"
    pool = await create_pool(settings.asyncpg_dsn)
    with open(log, "wb") as out:
        api = subprocess.Popen([sys.executable, "-m", "tracker.cli", "api"], env=env, stdout=out, stderr=out)
    try:
        await _ready(url, api, log)
        fleet, body = fleet_body()
        admin = new_token()
        await insert_token(pool, admin, ADMIN, "fuzz admin")
        async with aiohttp.ClientSession() as session:
            async with session.put(f"{url}/v1/registry", json=body, headers={"Authorization": f"Bearer {admin}"}) as r:
                assert r.status == 200, await r.text()
        roles = {ADMIN: admin}
        for role, binding in ((OPERATOR, {}), (GATEWAY, {"carrier_id": fleet.carriers[0]}),
                              (STATION, {"station_id": "S1"}), (AGENCY, {"agency": "police"}),
                              (CAMERA, {"checkpoint_id": "K1"})):
            roles[role] = token = new_token()
            await insert_token(pool, token, role, f"fuzz {role}", **binding)
        known = {"plate": [p for plates in fleet.plates.values() for p in plates], "carrier_id": fleet.carriers,
                 "period": ["day"], "date": [(date.today() - timedelta(days=1)).isoformat()]}
        st_env = dict(os.environ, SCHEMATHESIS_HOOKS=str(HOOKS), HAZMAT_FUZZ_KNOWN=json.dumps(known))
        failures = []
        for role, token in roles.items():
            command = [str(ST), "run", f"{url}/openapi.json", "-H", f"Authorization: Bearer {token}",
                       "--checks", CHECKS, "--max-time", str(SECONDS), "--max-examples", "500",
                       "--phases", PHASES, "--workers", "1", "--request-timeout", "20",
                       "--no-color"] + ([] if SEED == "random" else ["--seed", SEED])
            run = await asyncio.to_thread(subprocess.run, command, capture_output=True, text=True, timeout=SECONDS * 20,
                                          env=st_env)
            if run.returncode != 0:
                failures.append(f"--- {role} ---\n{run.stdout[-6000:]}\n{run.stderr[-2000:]}")
            await _ready(url, api, log, timeout_s=10)  # alive and ready after every role's run
        assert not failures, "\n".join(failures) + f"\n--- api log ---\n{log.read_text()[-4000:]}"
        assert "unhandled error" not in log.read_text(), log.read_text()[-4000:]
    finally:
        api.terminate()
        api.wait(30)
        await pool.close()
