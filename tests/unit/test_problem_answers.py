"""What the API answers when a handler fails: an outage (the database or broker away, the
process out of file descriptors or connections) is a 503 to retry, with one warning line;
anything else a 500 with its traceback logged."""
from __future__ import annotations

import logging

import aiohttp
import asyncpg
import pytest
from aiohttp import web

from tracker.api.app import problem_middleware

FAILURES = {
    "descriptors": OSError(24, "Too many open files"),
    "connections": asyncpg.TooManyConnectionsError("sorry, too many clients already"),
    "bug": ValueError("a bug"),
}


@pytest.fixture
async def base_url():
    async def failing(request: web.Request) -> web.Response:
        raise FAILURES[request.match_info["what"]]

    app = web.Application(middlewares=[problem_middleware])
    app.router.add_get("/{what}", failing)
    runner = web.AppRunner(app)
    await runner.setup()
    await web.TCPSite(runner, "127.0.0.1", 0).start()
    yield f"http://127.0.0.1:{runner.addresses[0][1]}"
    await runner.cleanup()


@pytest.mark.parametrize("what", ["descriptors", "connections"])
async def test_an_outage_is_503_to_retry_and_one_line(base_url, what, caplog):
    async with aiohttp.ClientSession() as session, session.get(f"{base_url}/{what}") as response:
        assert (response.status, response.headers["Retry-After"]) == (503, "5")
        assert response.content_type == "application/problem+json"
    (record,) = [r for r in caplog.records if r.name == "tracker.api.app"]
    assert record.levelno == logging.WARNING and record.exc_info is None


async def test_a_bug_is_500_with_its_traceback(base_url, caplog):
    async with aiohttp.ClientSession() as session, session.get(f"{base_url}/bug") as response:
        assert response.status == 500
    (record,) = [r for r in caplog.records if r.name == "tracker.api.app"]
    assert record.levelno == logging.ERROR and record.exc_info is not None
