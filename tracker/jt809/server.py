"""`hazmat jt809`: the superior-platform end of JT/T 809 links, an asyncio TCP server with
one coroutine per carrier platform connection (docs/jt809.md).

A connection reads, lets its `Link` (pure) split frames and watch the limits, and hands
each frame to `handlers` in order; a passed limit closes the connection with its reason
logged and counted. Positions are handed to the broker through one `Outlet` for every
link, and a link reads nothing while its positions wait for the broker's acknowledgement:
a slow broker slows the platforms down instead of filling memory.

Which connection holds a platform is kept in PostgreSQL (GET /v1/platforms shows it from
any API process) with the last message and counts, flushed once a second; a second login
of the same platform closes the older connection (a takeover).
"""
from __future__ import annotations

import asyncio
import itertools
import logging
import time
import uuid

import asyncpg

from streams.kafka import Publisher
from streams.times import now_ms
from streams.topics import Topics
from tracker.db import platforms as db
from tracker.intake.fleet import Fleet
from tracker.intake.items import Sorted
from tracker.intake.publish import Outlet
from tracker.jt809 import handlers
from tracker.jt809.links import Close, Link
from tracker.metrics import JT809_CLOSED, JT809_CONNECTIONS, JT809_LINKS, JT809_REFUSALS
from tracker.settings import Settings

log = logging.getLogger(__name__)
READ_BYTES = 16384
TICK_S = 1.0  # idle links closed, link state flushed, registry re-read
LIMITS = ("idle", "rate", "frame_size", "buffer", "login_failures")
DB_ERRORS = (OSError, asyncio.TimeoutError, asyncpg.PostgresError, asyncpg.InterfaceError)


class Server:
    def __init__(self, settings: Settings, pool: asyncpg.Pool, publisher: Publisher) -> None:
        self.settings = settings
        self.limits = settings.jt809
        self.pool = pool
        self.topics = Topics(settings.topic_prefix)
        self.outlet = Outlet(publisher, self.topics.fixes, self.topics.deadletter)
        self.fleet = Fleet(pool)
        self.id = uuid.uuid4().hex[:12]  # connection ids are '<this>:<n>'
        self._numbers = itertools.count(1)
        self.connections: set[Connection] = set()
        self.holders: dict[str, Connection] = {}  # platform id -> the connection logged in as it
        self.counts: dict[str, list[int]] = {}  # platform id -> [frames, fixes, refused] since the last flush
        self._server: asyncio.Server | None = None
        self._ticker: asyncio.Task | None = None

    @property
    def port(self) -> int:
        return self._server.sockets[0].getsockname()[1] if self._server else self.settings.jt809_port

    async def start(self) -> None:
        await self.fleet.reload()
        self._server = await asyncio.start_server(self._connected, self.settings.jt809_host, self.settings.jt809_port,
                                                  limit=self.limits.max_buffer_bytes, backlog=1024)
        self._ticker = asyncio.create_task(self._tick())
        log.info("JT/T 809 server %s listening on %s:%d", self.id, self.settings.jt809_host, self.port)

    async def stop(self) -> None:
        if self._server is not None:
            self._server.close()
        for connection in list(self.connections):
            connection.close("shutdown")
        await asyncio.gather(*[c.task for c in self.connections if c.task is not None], return_exceptions=True)
        if self._ticker is not None:
            self._ticker.cancel()
            await asyncio.gather(self._ticker, return_exceptions=True)
        try:
            await self._flush()
            await db.server_stopped(self.pool, self.id)
        except DB_ERRORS as exc:
            log.warning("could not record this JT/T 809 server's links as ended: %r", exc)
        await self.outlet.close()
        if self._server is not None:
            await self._server.wait_closed()

    async def _connected(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        connection = Connection(self, reader, writer, f"{self.id}:{next(self._numbers)}")
        connection.task = asyncio.current_task()
        self.connections.add(connection)
        JT809_CONNECTIONS.inc()
        try:
            await connection.run()
        finally:
            self.connections.discard(connection)
            JT809_CONNECTIONS.dec()

    async def linked(self, connection: "Connection") -> None:
        """`connection` logged in: it holds its platform now, an older one is closed."""
        pid = connection.link.platform.id
        previous = self.holders.get(pid)
        self.holders[pid] = connection
        if previous is None:
            JT809_LINKS.inc()
        elif previous is not connection:
            previous.close("takeover")
        try:
            await db.linked(self.pool, pid, connection.id, connection.remote, connection.link.version)
        except DB_ERRORS as exc:
            log.warning("platform %s: link state not recorded: %r", pid, exc)

    async def unlinked(self, connection: "Connection") -> None:
        pid = connection.link.platform.id
        if self.holders.get(pid) is connection:
            del self.holders[pid]
            JT809_LINKS.dec()
        try:
            await db.unlinked(self.pool, pid, connection.id)
        except DB_ERRORS as exc:
            log.warning("platform %s: end of link not recorded: %r", pid, exc)

    async def _tick(self) -> None:
        while True:
            await asyncio.sleep(TICK_S)
            now = time.monotonic()
            for connection in list(self.connections):
                connection.tick(now)
            try:
                await self._flush()
                if self.fleet.age_s() >= self.settings.registry_refresh_s:
                    await self.fleet.reload()
            except DB_ERRORS as exc:
                log.warning("JT/T 809 server: database unavailable, link state waits: %r", exc)

    async def _flush(self) -> None:
        if self.counts:
            counts, self.counts = self.counts, {}
            await db.heard(self.pool, {pid: tuple(c) for pid, c in counts.items()})


class Connection:
    def __init__(self, server: Server, reader: asyncio.StreamReader, writer: asyncio.StreamWriter,
                 connection_id: str) -> None:
        self.server = server
        self.reader, self.writer = reader, writer
        self.link = Link(server.limits)
        self.id = connection_id
        peer = writer.get_extra_info("peername")
        self.remote = f"{peer[0]}:{peer[1]}" if isinstance(peer, tuple) else str(peer)
        self.task: asyncio.Task | None = None
        self.closing: str | None = None
        self.last_heard = time.monotonic()
        self.pending = Sorted()  # positions of this read not yet handed to the broker

    def close(self, reason: str) -> None:
        """Ends the connection (from its handlers, or from outside: takeover, shutdown, idle)."""
        if self.closing is None:
            self.closing = reason
        transport = self.writer.transport
        if not transport.is_closing():
            if reason in ("logout", "login_failures"):
                transport.close()  # the answer already written goes out first
            else:
                transport.abort()

    def counted(self, frames: int = 0, fixes: int = 0, refused: int = 0) -> None:
        platform = self.link.platform
        if platform is not None:
            counts = self.server.counts.setdefault(platform.id, [0, 0, 0])
            counts[0] += frames
            counts[1] += fixes
            counts[2] += refused

    def send(self, msg_id: int, body: bytes, **login) -> None:
        if not self.writer.transport.is_closing():
            self.writer.write(self.link.answer(msg_id, body, now_ms() // 1000, **login))

    async def run(self) -> None:
        """Read until the platform hangs up, a limit is passed or the connection is closed
        (the server's tick closes idle ones: no timer per read)."""
        reason = "eof"
        try:
            while self.closing is None:
                data = await self.reader.read(READ_BYTES)
                if not data:
                    break
                self.last_heard = time.monotonic()
                closed = await self._act(self.link.receive(data, now_ms()))
                if closed is not None:
                    reason = closed
                    break
        except (ConnectionError, OSError) as exc:
            reason = "reset"
            log.debug("platform connection %s %s: %r", self.id, self.remote, exc)
        finally:
            await self._end(self.closing or reason)

    async def _act(self, items: list) -> str | None:
        """The frames of one read in order; their positions go to the broker together."""
        closed = None
        for item in items:
            if isinstance(item, Close):
                if item.raw:  # the start of what passed the limit: kept as a dead letter
                    await handlers.refused(self, item.raw, item.reason, f"{item.reason} limit passed")
                else:
                    JT809_REFUSALS.labels(item.reason).inc()
                closed = item.reason
                break
            await handlers.handle(self, item)
            if self.closing is not None:
                closed = self.closing
                break
        await handlers.flush(self)
        if closed is None:
            await self.writer.drain()
        return closed

    def tick(self, now: float) -> None:
        if self.closing is None and now - self.last_heard >= self.server.limits.idle_s:
            JT809_REFUSALS.labels("idle").inc()
            self.close("idle")

    async def _end(self, reason: str) -> None:
        JT809_CLOSED.labels(reason).inc()
        level = logging.WARNING if reason in LIMITS else logging.INFO
        log.log(level, "platform connection %s from %s closed: %s", self.id, self.remote, reason)
        if self.link.platform is not None:
            await self.server.unlinked(self)
        try:
            if not self.writer.transport.is_closing():
                await self.writer.drain()
            self.writer.close()
            await self.writer.wait_closed()
        except (ConnectionError, OSError):
            pass
