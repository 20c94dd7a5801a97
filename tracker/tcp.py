"""What the TCP entrances share (the JT/T 808 gateway, the JT/T 809 server): a server that
runs one coroutine per connection and a tick once a second, and a connection that reads
until its peer hangs up, a limit is passed or it is closed from outside.

Neither entrance imports the other (tests/unit/test_layers.py); both build on this. The
idle check runs from the server's tick, not as a timer per read: ten thousand terminals
would otherwise arm ten thousand timers a second.
"""
from __future__ import annotations

import asyncio
import logging
import time

from prometheus_client import Gauge

TICK_S = 1.0  # idle connections closed, the entrance's periodic work


class StreamConnection:
    """One peer's connection. Subclasses say what a read means (`received`: the reason to
    close, or None) and what ending means (`ended`, before the socket is closed)."""

    read_bytes = 4096

    def __init__(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter, connection_id: str,
                 idle_s: float) -> None:
        self.reader, self.writer, self.id, self.idle_s = reader, writer, connection_id, idle_s
        peer = writer.get_extra_info("peername")
        self.remote = f"{peer[0]}:{peer[1]}" if isinstance(peer, tuple) else str(peer)
        self.task: asyncio.Task | None = None
        self.closing: str | None = None
        self.last_heard = time.monotonic()

    def close(self, reason: str) -> None:
        """Ends the connection from outside its coroutine (takeover, shutdown, idle): what is
        unsent is dropped (`graceful` for an answer that must still go out)."""
        if self.closing is None:
            self.closing = reason
        transport = self.writer.transport
        if not transport.is_closing():
            if self.graceful(reason):
                transport.close()
            else:
                transport.abort()

    def graceful(self, reason: str) -> bool:
        return False

    async def received(self, data: bytes) -> str | None:
        raise NotImplementedError

    async def ended(self, reason: str) -> None:
        """Bookkeeping once the connection is over (metrics, the log, who holds what)."""

    async def run(self, log: logging.Logger) -> None:
        """Read until the peer hangs up, a limit is passed or the connection is closed."""
        reason = "eof"
        try:
            while self.closing is None:
                data = await self.reader.read(self.read_bytes)
                if not data:
                    break
                self.last_heard = time.monotonic()
                closed = await self.received(data)
                if closed is not None:
                    reason = closed
                    break
        except (ConnectionError, OSError) as exc:
            reason = "reset"
            log.debug("connection %s %s: %r", self.id, self.remote, exc)
        finally:
            await self.ended(self.closing or reason)
            await self._hang_up()

    def tick(self, now: float) -> None:
        """Once a second, from the server."""
        self.idle(now)

    def idle(self, now: float) -> bool:
        """Closed for silence? Then True."""
        if self.closing is None and now - self.last_heard >= self.idle_s:
            self.close("idle")
            return True
        return False

    async def _hang_up(self) -> None:
        """The socket is closed before the coroutine ends."""
        try:
            if not self.writer.transport.is_closing():
                await self.writer.drain()
            self.writer.close()
            await self.writer.wait_closed()
        except (ConnectionError, OSError):
            pass


class StreamServer:
    """The connections of one listening socket. Subclasses make connections (`connection`)
    and do their periodic work in `tick` (its database errors are theirs to catch)."""

    def __init__(self, gauge: Gauge, log: logging.Logger) -> None:
        self.connections: set[StreamConnection] = set()
        self._gauge, self._log = gauge, log
        self._server: asyncio.Server | None = None
        self._ticker: asyncio.Task | None = None

    def bound_port(self, configured: int) -> int:
        return self._server.sockets[0].getsockname()[1] if self._server else configured

    async def listen(self, host: str, port: int, limit: int, backlog: int) -> None:
        self._server = await asyncio.start_server(self._connected, host, port, limit=limit, backlog=backlog)
        self._ticker = asyncio.create_task(self._tick())

    def connection(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> StreamConnection:
        raise NotImplementedError

    async def tick(self, now: float) -> None:
        """Once a second, after the idle connections are closed."""

    async def close_all(self, *also: asyncio.Future) -> None:
        """Stop listening, close every connection and wait for it (and for `also`), stop the tick."""
        if self._server is not None:
            self._server.close()
        for connection in list(self.connections):
            connection.close("shutdown")
        await asyncio.gather(*[c.task for c in self.connections if c.task is not None], *also,
                             return_exceptions=True)
        if self._ticker is not None:
            self._ticker.cancel()
            await asyncio.gather(self._ticker, return_exceptions=True)

    async def closed(self) -> None:
        if self._server is not None:
            await self._server.wait_closed()

    async def _connected(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        connection = self.connection(reader, writer)
        connection.task = asyncio.current_task()
        self.connections.add(connection)
        self._gauge.inc()
        try:
            await connection.run(self._log)
        finally:
            self.connections.discard(connection)
            self._gauge.dec()

    async def _tick(self) -> None:
        """For as long as the server listens: a failure of one tick is logged, never the end
        of the ticking (idle connections would stay open for good)."""
        while True:
            await asyncio.sleep(TICK_S)
            now = time.monotonic()
            try:
                for connection in list(self.connections):
                    connection.tick(now)
                await self.tick(now)
            except Exception:  # noqa: BLE001 - logged; the next tick tries again
                self._log.exception("the periodic work failed; the next tick runs again")
