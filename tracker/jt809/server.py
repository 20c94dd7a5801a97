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
from tracker.tcp import StreamConnection, StreamServer

log = logging.getLogger(__name__)
LIMITS = ("idle", "rate", "frame_size", "buffer", "login_failures")
DB_ERRORS = (OSError, asyncio.TimeoutError, asyncpg.PostgresError, asyncpg.InterfaceError)


class Server(StreamServer):
    """Once a second (tracker.tcp) it closes idle links, flushes link state and re-reads
    the registry when due."""

    def __init__(self, settings: Settings, pool: asyncpg.Pool, publisher: Publisher) -> None:
        super().__init__(JT809_CONNECTIONS, log)
        self.settings = settings
        self.limits = settings.jt809
        self.pool = pool
        self.topics = Topics(settings.topic_prefix)
        self.outlet = Outlet(publisher, self.topics.fixes, self.topics.deadletter)
        self.fleet = Fleet(pool)
        self.id = uuid.uuid4().hex[:12]  # connection ids are '<this>:<n>'
        self._numbers = itertools.count(1)
        self.holders: dict[str, Connection] = {}  # platform id -> the connection logged in as it
        self.counts: dict[str, list[int]] = {}  # platform id -> [frames, fixes, refused] since the last flush

    @property
    def port(self) -> int:
        return self.bound_port(self.settings.jt809_port)

    async def start(self) -> None:
        await self.fleet.reload()
        await self.listen(self.settings.jt809_host, self.settings.jt809_port, self.limits.max_buffer_bytes, 1024)
        log.info("JT/T 809 server %s listening on %s:%d", self.id, self.settings.jt809_host, self.port)

    async def stop(self) -> None:
        await self.close_all()
        try:
            await self._flush()
            await db.server_stopped(self.pool, self.id)
        except DB_ERRORS as exc:
            log.warning("could not record this JT/T 809 server's links as ended: %r", exc)
        await self.outlet.close()
        await self.closed()

    def connection(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> "Connection":
        return Connection(self, reader, writer, f"{self.id}:{next(self._numbers)}")

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

    async def tick(self, now: float) -> None:
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


class Connection(StreamConnection):
    read_bytes = 16384

    def __init__(self, server: Server, reader: asyncio.StreamReader, writer: asyncio.StreamWriter,
                 connection_id: str) -> None:
        super().__init__(reader, writer, connection_id, server.limits.idle_s)
        self.server = server
        self.link = Link(server.limits)
        self.pending = Sorted()  # positions of this read not yet handed to the broker

    def graceful(self, reason: str) -> bool:
        return reason in ("logout", "login_failures")  # the answer already written goes out first

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

    async def received(self, data: bytes) -> str | None:
        return await self._act(self.link.receive(data, now_ms()))

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
        if self.idle(now):
            JT809_REFUSALS.labels("idle").inc()

    async def ended(self, reason: str) -> None:
        JT809_CLOSED.labels(reason).inc()
        level = logging.WARNING if reason in LIMITS else logging.INFO
        log.log(level, "platform connection %s from %s closed: %s", self.id, self.remote, reason)
        if self.link.platform is not None:
            await self.server.unlinked(self)
