"""The TCP entrances' shared server (tracker.tcp): its periodic work outlives a failure."""
from __future__ import annotations

import asyncio
import logging

from prometheus_client import CollectorRegistry, Gauge

from tracker import tcp


class Failing(tcp.StreamServer):
    def __init__(self) -> None:
        super().__init__(Gauge("test_tcp_connections", "", registry=CollectorRegistry()), logging.getLogger("test"))
        self.ticks = 0

    async def tick(self, now: float) -> None:
        self.ticks += 1
        if self.ticks == 1:
            raise RuntimeError("the first tick fails")


async def test_a_failing_tick_is_logged_and_the_ticking_goes_on(monkeypatch, caplog):
    monkeypatch.setattr(tcp, "TICK_S", 0.01)
    server = Failing()
    await server.listen("127.0.0.1", 0, 1024, 16)
    try:
        for _ in range(200):
            if server.ticks >= 3:
                break
            await asyncio.sleep(0.01)
    finally:
        await server.close_all()
        server._server.close()
    assert server.ticks >= 3
    assert "the periodic work failed" in caplog.text and "the first tick fails" in caplog.text
