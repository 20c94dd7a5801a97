"""The aiohttp app factory: resources as cleanup contexts, one `setup_*` per concern."""
from __future__ import annotations

import asyncio
import logging
import time

from aiohttp import web

from streams.kafka import Publisher
from streams.topics import Topics
from tracker.api.checkpoints import setup_checkpoints
from tracker.api.context import FLEET, POOL, PUBLISHER, SETTINGS, TOKENS, TOPICS
from tracker.api.filling import setup_filling
from tracker.api.fixes import setup_fixes
from tracker.api.geofences import setup_geofences
from tracker.api.handling import setup_handling
from tracker.api.hazards import setup_hazards
from tracker.api.health import setup_health
from tracker.api.incidents import setup_incidents
from tracker.api.live import setup_live
from tracker.api.messages import setup_messages
from tracker.api.page import setup_page
from tracker.api.parameters import setup_parameters
from tracker.api.platforms import setup_platforms
from tracker.api.problems import Problem
from tracker.api.registry import setup_registry
from tracker.api.reports import setup_reports
from tracker.api.sites import setup_sites
from tracker.api.terminals import setup_terminals
from tracker.api.tokens import setup_tokens
from tracker.api.trips import setup_trips
from tracker.api.vehicles import setup_vehicles
from tracker.api.violations import setup_violations
from tracker.api.waybills import setup_waybills
from tracker.auth import TokenCache
from tracker.db import positions
from tracker.db.pool import create_pool
from tracker.intake.fleet import Fleet
from tracker.metrics import HTTP_REQUESTS
from tracker.outages import is_outage
from tracker.settings import Settings

log = logging.getLogger(__name__)


@web.middleware
async def problem_middleware(request: web.Request, handler) -> web.StreamResponse:
    """Every error leaves as problem+json, including aiohttp's own 404/405/413."""
    try:
        return await handler(request)
    except Problem as problem:
        return problem.response()
    except web.HTTPException as exc:
        if exc.status < 400:
            raise
        kept = {k: v for k, v in exc.headers.items() if k in ("Allow", "Retry-After", "WWW-Authenticate")}
        return Problem(exc.status, exc.reason or exc.text or "", headers=kept).response()
    except Exception as exc:
        if request.transport is None or request.transport.is_closing():  # the client went away mid-request
            log.info("%s %r: the client went away: %r", request.method, request.path, exc)
            return Problem(400, "the client went away").response()  # (read by nobody; raising logs a traceback)
        if is_outage(exc):  # the database or broker away, the process out of connections or descriptors
            log.warning("%s %r: unavailable: %r", request.method, request.path, exc)
            return Problem(503, "a service this request needs is unavailable; try again shortly",
                           headers={"Retry-After": "5"}).response()
        log.exception("unhandled error in %s %r", request.method, request.path)
        return Problem(500, "the server failed; the error is logged").response()


@web.middleware
async def metrics_middleware(request: web.Request, handler) -> web.StreamResponse:
    started = time.perf_counter()
    status = 500
    try:
        response = await handler(request)
        status = response.status
        return response
    finally:
        route = request.match_info.route.resource.canonical if request.match_info.route.resource else "unmatched"
        HTTP_REQUESTS.labels(route, request.method, str(status)).observe(time.perf_counter() - started)


async def _secure_headers(request: web.Request, response: web.StreamResponse) -> None:
    """Every answer: no content sniffing (a JSON body is never run as a page), no referrer."""
    response.headers.setdefault("X-Content-Type-Options", "nosniff")
    response.headers.setdefault("Referrer-Policy", "no-referrer")


async def _database(app: web.Application):
    settings = app[SETTINGS]
    app[POOL] = pool = await create_pool(settings.asyncpg_dsn)
    await positions.ensure_window(pool)
    app[TOKENS] = TokenCache(pool)
    app[FLEET] = fleet = Fleet(pool)
    await fleet.reload()
    refresher = asyncio.create_task(_refresh_fleet(fleet, settings.registry_refresh_s))
    yield
    refresher.cancel()
    await asyncio.gather(refresher, return_exceptions=True)
    await pool.close()


async def _refresh_fleet(fleet: Fleet, every_s: float) -> None:
    while True:
        await asyncio.sleep(every_s)
        try:
            await fleet.reload()
        except (OSError, asyncio.TimeoutError) as exc:
            log.warning("registry refresh failed, keeping the last one: %r", exc)


async def _broker(app: web.Application):
    settings = app[SETTINGS]
    publisher = Publisher(settings.kafka_bootstrap, timeout_s=settings.broker_timeout_s,
                          compression=settings.kafka_compression)
    app[PUBLISHER] = publisher
    yield
    await publisher.close()


def create_app(settings: Settings) -> web.Application:
    app = web.Application(client_max_size=settings.max_body_bytes,
                          middlewares=[metrics_middleware, problem_middleware])
    app[SETTINGS] = settings
    app[TOPICS] = Topics(settings.topic_prefix)
    app.on_response_prepare.append(_secure_headers)
    app.cleanup_ctx.append(_database)
    app.cleanup_ctx.append(_broker)
    setup_health(app)
    setup_tokens(app)
    setup_registry(app)
    setup_geofences(app)
    setup_waybills(app)
    setup_fixes(app)
    setup_filling(app)
    setup_checkpoints(app)
    setup_violations(app)
    setup_handling(app)
    setup_vehicles(app)
    setup_trips(app)
    setup_reports(app)
    setup_terminals(app)
    setup_platforms(app)
    setup_sites(app)
    setup_hazards(app)
    setup_incidents(app)
    setup_messages(app)
    setup_live(app)
    setup_page(app)
    setup_parameters(app)
    return app
