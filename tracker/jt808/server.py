"""The JT/T 808 gateway: an asyncio TCP server, one coroutine per terminal connection.

A connection reads, lets its `Session` (pure) frame and decode, and acts on what that
returns in order: replies are written, refused frames dead-lettered, whole messages
handled (`handlers`), a passed limit closes the connection with its reason logged and
counted. Reports are answered only after the broker acknowledged their positions, and
the connection reads nothing meanwhile: a slow broker slows the terminals down instead of
filling memory.

Which connection holds a terminal is kept in PostgreSQL (so every API process answers
GET /v1/terminals alike) and in `Holders` here; an authentication or registration on
another connection (of this process or another gateway's, announced with NOTIFY) closes
the old one: a takeover.
"""
from __future__ import annotations

import asyncio
import itertools
import logging
import uuid
from functools import lru_cache

import asyncpg

from streams.kafka import Publisher
from streams.times import now_ms
from streams.topics import Topics
from tracker.db import messages as stored_messages
from tracker.db import terminals as db
from tracker.intake.fleet import Fleet
from tracker.intake.publish import Outlet
from tracker.jt808 import handlers, texts
from tracker.jt808.sessions import Close, Holders, Inbound, Refused, Reply, Session
from tracker.metrics import (
    JT808_CLOSED,
    JT808_CONNECTED,
    JT808_CONNECTIONS,
    JT808_QUIRKS,
    JT808_REFUSALS,
    JT808_REPLIES,
)
from tracker.settings import Settings
from tracker.tcp import StreamConnection, StreamServer

log = logging.getLogger(__name__)
MESSAGES_EVERY_S = 5.0  # queued texts are looked for (and expired) this often besides NOTIFY
LIMITS = ("idle", "rate", "frame_size", "buffer")  # the reasons a connection is closed for a limit


@lru_cache(maxsize=256)
def replies_counter(msg_id: int, result: int | None):
    """The counter child of an answer (labels() costs more than the answer's encoding)."""
    return JT808_REPLIES.labels(f"0x{msg_id:04X}", "none" if result is None else str(result))


class Gateway(StreamServer):
    """Once a second (tracker.tcp) it closes idle connections, asks for overdue
    subpackages and flushes last-seen times to PostgreSQL."""

    def __init__(self, settings: Settings, pool: asyncpg.Pool, publisher: Publisher) -> None:
        super().__init__(JT808_CONNECTIONS, log)
        self.settings = settings
        self.limits = settings.jt808
        self.pool = pool
        self.topics = Topics(settings.topic_prefix)
        self.outlet = Outlet(publisher, self.topics.fixes, self.topics.deadletter)
        self.fleet = Fleet(pool)
        self.holders = Holders()
        self.id = uuid.uuid4().hex[:12]  # connection ids are '<this>:<n>'
        self._numbers = itertools.count(1)
        self.seen: set[str] = set()  # terminal phones heard since the last flush
        self._listener: asyncpg.Connection | None = None
        self.background: set[asyncio.Task] = set()  # text deliveries under way
        self._messages_at = 0.0

    @property
    def port(self) -> int:
        return self.bound_port(self.settings.jt808_port)

    async def start(self) -> None:
        await self.fleet.reload()
        await self._listen()
        await self.listen(self.settings.jt808_host, self.settings.jt808_port, self.limits.max_buffer_bytes, 4096)
        log.info("JT/T 808 gateway %s listening on %s:%d", self.id, self.settings.jt808_host, self.port)

    async def stop(self) -> None:
        await self.close_all(*self.background)
        await self._flush_seen()
        await self.outlet.close()
        try:
            await db.gateway_stopped(self.pool, self.id)
        except (OSError, asyncpg.PostgresError, asyncpg.InterfaceError) as exc:
            log.warning("could not mark this gateway's terminals disconnected: %r", exc)
        if self._listener is not None:
            await self._listener.close()
        await self.closed()

    def connection(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> "Connection":
        return Connection(self, reader, writer, f"{self.id}:{next(self._numbers)}")

    def claim(self, phone: str, connection: "Connection") -> None:
        """`connection` authenticated (or registered) as `phone`: another holding it is closed."""
        held = self.holders.holder(phone)
        previous = self.holders.claim(phone, connection)
        if held is None:
            JT808_CONNECTED.inc()
        if previous is not None:
            previous.close("takeover")

    def release(self, phone: str, connection: "Connection") -> None:
        if self.holders.release(phone, connection):
            JT808_CONNECTED.dec()

    async def _listen(self) -> None:
        """A connection of its own that hears takeovers by other gateways (re-made by the
        tick when lost; meanwhile a takeover elsewhere leaves the old connection open until
        it idles out, and GET /v1/terminals already shows the new one)."""
        if self._listener is not None and not self._listener.is_closed():
            return
        self._listener = await asyncpg.connect(self.settings.asyncpg_dsn, timeout=10)
        await self._listener.add_listener(db.CHANNEL, self._taken_elsewhere)
        await self._listener.add_listener(stored_messages.CHANNEL, self._message_queued)

    def _message_queued(self, _conn, _pid, _channel, phone: str) -> None:
        """NOTIFY: a text waits for `phone`; sent at once when this gateway holds it."""
        holder = self.holders.holder(phone)
        if holder is not None:
            texts.schedule(holder)

    def _taken_elsewhere(self, _conn, _pid, _channel, payload: str) -> None:
        """NOTIFY from any gateway: `phone connection_id` now holds the terminal."""
        phone, _, connection_id = payload.partition(" ")
        holder = self.holders.holder(phone)
        if holder is not None and holder.id != connection_id:
            holder.close("takeover")

    async def tick(self, now: float) -> None:
        try:
            await self._listen()
            await self._flush_seen()
            if self.fleet.age_s() >= self.settings.registry_refresh_s:
                await self.fleet.reload()
            if now - self._messages_at >= MESSAGES_EVERY_S:
                self._messages_at = now
                await self._messages()
        except (OSError, asyncio.TimeoutError, asyncpg.PostgresError, asyncpg.InterfaceError) as exc:
            log.warning("JT/T 808 gateway: database unavailable, last-seen times wait: %r", exc)

    async def _messages(self) -> None:
        """Expire texts that waited too long; send those a missed NOTIFY left queued."""
        await stored_messages.expire(self.pool)
        held = [phone for phone in self.holders.phones()]
        for phone in await stored_messages.queued_phones(self.pool, held) if held else ():
            holder = self.holders.holder(phone)
            if holder is not None:
                texts.schedule(holder)

    async def _flush_seen(self) -> None:
        if self.seen:
            phones, self.seen = sorted(self.seen), set()
            await db.seen(self.pool, phones)


class Connection(StreamConnection):
    def __init__(self, gateway: Gateway, reader: asyncio.StreamReader, writer: asyncio.StreamWriter,
                 connection_id: str) -> None:
        super().__init__(reader, writer, connection_id, gateway.limits.idle_s)
        self.gateway = gateway
        self.session = Session(gateway.limits)
        self.sending = asyncio.Lock()  # texts to the terminal (tracker.jt808.texts)

    async def received(self, data: bytes) -> str | None:
        return await self._act(self.session.receive(data, now_ms()))

    def tick(self, now: float) -> None:
        """Once a second, from the gateway: close when idle too long, ask for overdue subpackages."""
        if self.closing is not None:
            return
        if self.idle(now):
            JT808_REFUSALS.labels("idle").inc()
            return
        late = self.session.overdue(now_ms())
        if late:
            self._send(late)

    async def _act(self, events) -> str | None:
        for event in events:
            if isinstance(event, Reply):
                self._send([event])
            elif isinstance(event, Inbound):
                for quirk in event.reply_to.quirks or ():
                    JT808_QUIRKS.labels(quirk).inc()
                    log.info("terminal %s sent a frame with the known device quirk %r (taken)",
                             event.reply_to.phone, quirk)
                await handlers.handle(self, event)
            elif isinstance(event, Refused):
                await handlers.refused(self, event)
            elif isinstance(event, Close):
                JT808_REFUSALS.labels(event.reason).inc()
                return event.reason
            if self.closing is not None:
                return self.closing
        await self.writer.drain()
        return None

    def _send(self, replies) -> None:
        for reply in replies:
            self.writer.write(reply.wire)
            replies_counter(reply.msg_id, reply.result).inc()

    async def write(self, wire: bytes, msg_id: int, result: int | None) -> None:
        self.writer.write(wire)
        replies_counter(msg_id, result).inc()

    async def ended(self, reason: str) -> None:
        JT808_CLOSED.labels(reason).inc()
        if reason in LIMITS:
            log.warning("terminal connection %s from %s closed: %s limit passed", self.id, self.remote, reason)
        else:
            # Routine (a hang-up, a takeover, shutdown): thousands of terminals would bury the
            # log; hazmat_jt808_connections_closed_total counts them by reason.
            log.debug("terminal connection %s from %s closed: %s", self.id, self.remote, reason)
        terminal = self.session.terminal
        if terminal is not None:
            self.gateway.release(terminal.phone, self)
            try:
                await db.disconnected(self.gateway.pool, terminal.phone, self.id)
            except (OSError, asyncpg.PostgresError, asyncpg.InterfaceError) as exc:
                log.warning("could not mark terminal %s disconnected: %r", terminal.phone, exc)
