"""Liveness, readiness, metrics and the API's own description: unauthenticated, for
orchestrators, Prometheus and the tools that generate clients (or fuzz the API)."""
from __future__ import annotations

import asyncio

import asyncpg
from aiohttp import web
from prometheus_client import CONTENT_TYPE_LATEST, generate_latest

from schemas import openapi_document
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


async def openapi(request: web.Request) -> web.Response:
    return json_bytes_response(request.app[OPENAPI])


OPENAPI = web.AppKey("openapi", dict)


def setup_health(app: web.Application) -> None:
    app[OPENAPI] = openapi_document()
    app.router.add_get("/openapi.json", openapi)
    app.router.add_get("/healthz", healthz)
    app.router.add_get("/readyz", readyz)
    app.router.add_get("/metrics", metrics)
