"""The simulated fleet inside `hazmat up` outlives the server's trouble: a 5xx or no answer
costs a round (counted), never the fleet, which would take the system down with it; a 4xx
is the simulator's own bug and stops it."""
from __future__ import annotations

import aiohttp
import pytest
from aiohttp import web

from tracker.dev.simulate import SimulationError, _post_all


@pytest.fixture
async def server():
    answers: list[int] = []

    async def fixes(request: web.Request) -> web.Response:
        status = answers.pop(0)
        body = {"accepted": 1, "rejected": []} if status == 202 else {"title": "no"}
        return web.json_response(body, status=status)

    app = web.Application()
    app.router.add_post("/v1/fixes", fixes)
    runner = web.AppRunner(app)
    await runner.setup()
    await web.TCPSite(runner, "127.0.0.1", 0).start()
    port = runner.addresses[0][1]
    async with aiohttp.ClientSession(base_url=f"http://127.0.0.1:{port}/") as session:
        yield session, answers
    await runner.cleanup()


async def test_a_server_error_costs_a_round_and_a_client_error_stops_the_fleet(server):
    session, answers = server
    counts = {"accepted": 0, "rejected": 0, "unavailable": 0}
    tokens, by_carrier = {"A": "t", "B": "t"}, {"A": [{"plate": "P1"}], "B": [{"plate": "P2"}, {"plate": "P3"}]}
    answers += [500, 202]
    await _post_all(session, tokens, by_carrier, counts)
    assert counts == {"accepted": 1, "rejected": 0, "unavailable": 1}
    answers += [503, 503]
    await _post_all(session, tokens, by_carrier, counts)
    assert counts["unavailable"] == 4
    answers += [400]
    with pytest.raises(SimulationError):
        await _post_all(session, tokens, by_carrier, counts)


async def test_no_answer_at_all_costs_a_round():
    counts = {"accepted": 0, "rejected": 0, "unavailable": 0}
    async with aiohttp.ClientSession(base_url="http://127.0.0.1:9/") as session:  # nothing listens on port 9
        await _post_all(session, {"A": "t"}, {"A": [{"plate": "P1"}]}, counts)
    assert counts["unavailable"] == 1
