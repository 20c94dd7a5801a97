"""Liveness, readiness and metrics: unauthenticated, for orchestrators and Prometheus."""
from __future__ import annotations

import asyncio

import asyncpg
from aiohttp import web
from prometheus_client import CONTENT_TYPE_LATEST, generate_latest

from streams.kafka import broker_reachable
from tracker.api.context import POOL, SETTINGS
from tracker.api.respond import json_bytes_response


async def healthz(request: web.Request) -> web.Response:
    return json_bytes_response({"status": "ok"})


async def _database_ok(request: web.Request) -> bool:
    try:
        return await asyncio.wait_for(request.app[POOL].fetchval("SELECT 1"), 3) == 1
    except (OSError, asyncio.TimeoutError, asyncpg.PostgresError, asyncpg.InterfaceError) as exc:
        request.app.logger.warning("readiness: database check failed: %r", exc)
        return False


async def readyz(request: web.Request) -> web.Response:
    database, broker = await asyncio.gather(
        _database_ok(request), broker_reachable(request.app[SETTINGS].kafka_bootstrap)
    )
    ready = database and broker
    body = {"status": "ready" if ready else "not ready", "database": database, "broker": broker}
    return json_bytes_response(body, status=200 if ready else 503)


async def metrics(request: web.Request) -> web.Response:
    return web.Response(body=generate_latest(), headers={"Content-Type": CONTENT_TYPE_LATEST})


def setup_health(app: web.Application) -> None:
    app.router.add_get("/healthz", healthz)
    app.router.add_get("/readyz", readyz)
    app.router.add_get("/metrics", metrics)
