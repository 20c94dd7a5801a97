"""The sub-platform client toward the provincial platform (HAZMAT_JT809_UPSTREAM): logs in
with 0x1001, forwards every accepted fix as 0x1202 and every opened `high` violation as
0x1402, keeps the heartbeat, and reconnects with backoff (docs/jt809.md).

It reads the fixes and violations topics in a consumer group of its own and commits a
batch's offsets only after the province has shown it read the batch: each batch is
followed by a heartbeat, and the province answers heartbeats in order, so its 0x1006 means
every frame before it was received. A restart of either side, or an outage of the province,
resumes at the last committed offsets: nothing is lost, and nothing is sent twice beyond
the batch in flight (at-least-once). The send rate is bounded (`Upstream.max_per_s`).
"""
from __future__ import annotations

import asyncio
import logging
import time

import orjson
from aiokafka.errors import KafkaError

from streams.kafka import consumer
from streams.times import now_ms
from streams.topics import Topics
from tracker.jt809.codec import Frame, decode, encode
from tracker.jt809.crypto import Keys
from tracker.jt809.errors import CodecError
from tracker.jt809.forward import alarm_body, fix_body
from tracker.jt809.framing import FrameReader
from tracker.jt809.messages import (
    ALARM,
    DYNAMIC,
    HEARTBEAT,
    HEARTBEAT_RESPONSE,
    LOGIN,
    LOGIN_RESPONSE,
    OK,
    Login,
    decode_login_response,
    encode_login,
)
from tracker.metrics import JT809_UPSTREAM, JT809_UPSTREAM_LINKED
from tracker.settings import Settings, Upstream

log = logging.getLogger(__name__)
BACKOFF_S = (1.0, 2.0, 5.0, 10.0, 30.0)
ANSWER_S = 30.0  # the province answers a login or heartbeat within this, or the link is given up


class LinkLost(Exception):
    """The province closed the link, refused the login or stopped answering."""


class UpstreamLink:
    """One TCP link to the province, logged in; frames written in order, answers awaited."""

    def __init__(self, config: Upstream) -> None:
        self.config = config
        self.keys = Keys(*config.keys) if config.keys else None
        self.serial = 0
        self.reader: asyncio.StreamReader | None = None
        self.writer: asyncio.StreamWriter | None = None
        self._frames = FrameReader()

    async def open(self) -> None:
        c = self.config
        try:
            self.reader, self.writer = await asyncio.wait_for(asyncio.open_connection(c.host, c.port), ANSWER_S)
        except (OSError, asyncio.TimeoutError) as exc:
            raise LinkLost(f"cannot connect to {c.host}:{c.port}: {exc!r}") from None
        body = encode_login(Login(c.user_id, c.password, "0.0.0.0", 0,
                                  c.access_code if c.version == "2019" else None), c.version)
        self.write(LOGIN, body)
        result = decode_login_response(await self.answer(LOGIN_RESPONSE)).result
        if result != OK:
            raise LinkLost(f"the province refused the login: result {result}")

    def write(self, msg_id: int, body: bytes) -> None:
        self.serial = (self.serial + 1) & 0xFFFFFFFF
        c = self.config
        self.writer.write(encode(msg_id, body, version=c.version, serial=self.serial, access_code=c.access_code,
                                 time_s=now_ms() // 1000 if c.version == "2019" else None, keys=self.keys,
                                 key=self.serial if self.keys else 0))

    async def heartbeat(self) -> None:
        """0x1005 and its 0x1006: everything written before it has been read."""
        self.write(HEARTBEAT, b"")
        await self.answer(HEARTBEAT_RESPONSE)

    async def answer(self, msg_id: int) -> Frame:
        try:
            await self.writer.drain()
            return await asyncio.wait_for(self._next(msg_id), ANSWER_S)
        except (OSError, asyncio.TimeoutError) as exc:
            raise LinkLost(f"no 0x{msg_id:04X} from the province: {exc!r}") from None

    async def _next(self, msg_id: int) -> Frame:
        while True:
            data = await self.reader.read(4096)
            if not data:
                raise LinkLost("the province closed the link")
            for wire in self._frames.feed(data):
                if not isinstance(wire, bytes):
                    continue
                try:
                    frame = decode(wire, self.config.version, self.keys)
                except CodecError as exc:
                    log.warning("upstream: unreadable frame from the province (%s): %s", exc, wire.hex())
                    continue
                if frame.msg_id == msg_id:
                    return frame
                log.debug("upstream: 0x%04X from the province not handled", frame.msg_id)  # requests of the down-link

    async def close(self) -> None:
        if self.writer is not None:
            self.writer.close()
            try:
                await self.writer.wait_closed()
            except (OSError, ConnectionError):
                pass


class UpstreamClient:
    def __init__(self, settings: Settings) -> None:
        self.settings = settings
        self.config = settings.jt809_upstream
        topics = Topics(settings.topic_prefix)
        self.fixes, self.violations = topics.fixes, topics.violations

    async def run(self, stop: asyncio.Event) -> None:
        c = consumer(self.settings.kafka_bootstrap, [self.fixes, self.violations], group_id=self.config.group,
                     max_poll_records=self.config.max_per_s)
        await c.start()
        failures = 0
        try:
            while not stop.is_set():
                link = UpstreamLink(self.config)
                try:
                    await link.open()
                    JT809_UPSTREAM_LINKED.set(1)
                    log.info("upstream: logged in to %s:%d", self.config.host, self.config.port)
                    failures = 0
                    await self._pump(c, link, stop)
                except (LinkLost, KafkaError) as exc:
                    JT809_UPSTREAM.labels("reconnect").inc()
                    delay = BACKOFF_S[min(failures, len(BACKOFF_S) - 1)]
                    failures += 1
                    log.warning("upstream: %s; again in %.0f s from the last committed offsets", exc, delay)
                    await _rewind(c)
                    try:
                        await asyncio.wait_for(stop.wait(), delay)
                    except asyncio.TimeoutError:
                        pass
                finally:
                    JT809_UPSTREAM_LINKED.set(0)
                    await link.close()
        finally:
            await c.stop()

    async def _pump(self, c, link: UpstreamLink, stop: asyncio.Event) -> None:
        version, last_beat = self.config.version, time.monotonic()
        while not stop.is_set():
            batch = await c.getmany(timeout_ms=500, max_records=self.config.max_per_s)
            started, sent = time.monotonic(), 0
            for records in batch.values():
                for record in records:
                    sent += self._forward(link, record, version)
            if batch or time.monotonic() - last_beat >= self.config.heartbeat_s:
                await link.heartbeat()  # the province has read the batch
                last_beat = time.monotonic()
            if batch:
                await c.commit({tp: records[-1].offset + 1 for tp, records in batch.items()})
            pause = sent / self.config.max_per_s - (time.monotonic() - started)
            if pause > 0:
                await asyncio.sleep(pause)

    def _forward(self, link: UpstreamLink, record, version: str) -> int:
        """Writes the record's frame, if it has one; returns the frames written (0 or 1)."""
        try:
            value = orjson.loads(record.value)
            if record.topic == self.fixes:
                msg_id, body, what = DYNAMIC, fix_body(value, version), "fix"
            else:
                msg_id, body, what = ALARM, alarm_body(value, version), "alarm"
        except (ValueError, KeyError, TypeError, AttributeError) as exc:
            JT809_UPSTREAM.labels("skipped").inc()
            log.warning("upstream: %s record at %d/%d not forwarded: %r", record.topic, record.partition,
                        record.offset, exc)
            return 0
        if body is None:
            return 0
        link.write(msg_id, body)
        JT809_UPSTREAM.labels(what).inc()
        return 1


async def _rewind(c) -> None:
    """Back to the committed offsets of every assigned partition (what was read but not
    known to be received is sent again)."""
    for tp in c.assignment():
        try:
            committed = await c.committed(tp)
        except KafkaError as exc:
            log.warning("upstream: committed offset of %s unknown: %r", tp, exc)
            continue
        if committed is None:
            await c.seek_to_beginning(tp)
        else:
            c.seek(tp, committed)
