"""The sub-platform client toward the province over real TCP, against the real broker: a
small superior platform in the test (built on the codec) receives every fix and every
opened `high` violation, through restarts of either side."""
from __future__ import annotations

import asyncio
import time
from collections import Counter

import orjson
import pytest

from streams.kafka import Publisher
from streams.times import now_ms, rfc3339
from tests.waiting import until
from tracker.jt809.alarms import OVERSPEED, decode_alarm
from tracker.jt809.codec import decode, encode
from tracker.jt809.crypto import Keys
from tracker.jt809.framing import FrameReader
from tracker.jt809.messages import (
    ALARM,
    BAD_PASSWORD,
    DYNAMIC,
    HEARTBEAT,
    HEARTBEAT_RESPONSE,
    LOGIN,
    LOGIN_RESPONSE,
    OK,
    decode_login,
    encode_login_response,
)
from tracker.jt809.positions import decode_positions
from tracker.jt809.upstream import UpstreamClient
from tracker.serve import create_topics
from tracker.settings import Upstream

pytestmark = pytest.mark.integration

PLATE = "浙B12345"
USER, PASSWORD, ACCESS = 70001, "prov809", 33010001


class Province:
    """The provincial platform: takes one login, answers heartbeats, keeps what arrives."""

    def __init__(self, version: str, keys: Keys | None) -> None:
        self.version, self.keys = version, keys
        self.fixes: Counter[int] = Counter()  # ts -> times received
        self.alarms: list = []
        self.logins = 0
        self.port = 0
        self._server: asyncio.Server | None = None
        self._writers: set[asyncio.StreamWriter] = set()

    async def start(self) -> None:
        self._server = await asyncio.start_server(self._link, "127.0.0.1", self.port)
        self.port = self._server.sockets[0].getsockname()[1]

    async def stop(self) -> None:
        self._server.close()
        for writer in list(self._writers):
            writer.transport.abort()
        await self._server.wait_closed()

    async def _link(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        self._writers.add(writer)
        frames, serial = FrameReader(), 0
        try:
            while data := await reader.read(65536):
                for wire in frames.feed(data):
                    frame = decode(wire, self.version, self.keys)
                    answer = None
                    if frame.msg_id == LOGIN:
                        login = decode_login(frame)
                        ok = (login.user_id, login.password, frame.access_code) == (USER, PASSWORD, ACCESS)
                        self.logins += ok
                        answer = (LOGIN_RESPONSE, encode_login_response(OK if ok else BAD_PASSWORD, 1))
                    elif frame.msg_id == HEARTBEAT:
                        answer = (HEARTBEAT_RESPONSE, b"")
                    elif frame.msg_id == DYNAMIC:
                        for position in decode_positions(frame):
                            assert position.plate == PLATE and not position.gcj02
                            self.fixes[position.ts_ms] += 1
                    elif frame.msg_id == ALARM:
                        self.alarms.append(decode_alarm(frame))
                    if answer:
                        serial += 1
                        writer.write(encode(answer[0], answer[1], version=self.version, serial=serial,
                                            access_code=ACCESS, time_s=int(time.time()), keys=self.keys, key=serial))
        except (ConnectionError, OSError):
            pass
        finally:
            self._writers.discard(writer)
            writer.close()


def fix(ts: int) -> bytes:
    return orjson.dumps({"plate": PLATE, "ts": ts, "lat": 29.9, "lon": 121.8, "speed_kmh": 42.0, "heading_deg": 90,
                         "alt_m": 5, "carrier_id": "C1", "received_at": ts, "source": "jt809", "status_flags": 3,
                         "mileage_km": 12.5})


def event(kind: str, severity: str, type_: str = "hazmat.violation.opened") -> bytes:
    started = rfc3339(now_ms() - 60_000)
    return orjson.dumps({"specversion": "1.0", "id": f"v-{kind}-{severity}.x", "source": "hazmat/rules",
                         "type": type_, "time": started, "subject": PLATE,
                         "data": {"violation_id": f"v-{kind}", "kind": kind, "plate": PLATE, "carrier_id": "C1",
                                  "status": "open", "started_at": started, "ended_at": None,
                                  "lat": 29.9, "lon": 121.8, "severity": severity, "agencies": [], "details": {}}})


@pytest.mark.parametrize("version, keys", [("2011", None), ("2019", Keys(123456, 654321, 111))],
                         ids=["2011", "2019-encrypted"])
async def test_every_fix_and_high_violation_reaches_the_province_through_restarts(settings, topics, version, keys):
    await create_topics(settings)
    province = Province(version, keys)
    await province.start()
    own = settings.with_(jt809_upstream=Upstream("127.0.0.1", province.port, USER, PASSWORD, ACCESS, version,
                                                 None if keys is None else (keys.m1, keys.ia1, keys.ic1),
                                                 group=f"up-{settings.topic_prefix}", max_per_s=200,
                                                 heartbeat_s=1.0))
    publisher = Publisher(settings.kafka_bootstrap)
    t0 = int(time.time()) * 1000 - 3_600_000
    sent: list[int] = []

    async def publish(n: int) -> None:
        batch = [t0 + (len(sent) + i) * 1000 for i in range(n)]
        sent.extend(batch)
        await publisher.publish(topics.fixes, [(PLATE.encode(), fix(ts)) for ts in batch])

    async def all_received():
        return set(province.fixes) == set(sent) or None

    async def client():
        stop = asyncio.Event()
        return stop, asyncio.ensure_future(UpstreamClient(own).run(stop))

    try:
        await publish(300)
        await publisher.publish(topics.violations, [(PLATE.encode(), event("speeding", "high")),
                                                    (PLATE.encode(), event("speeding", "medium")),
                                                    (PLATE.encode(), event("gps_jump", "high",
                                                                           "hazmat.violation.closed"))])
        stop, task = await client()
        await until(all_received, 30)
        await until(lambda: asyncio.sleep(0, province.alarms or None), 10)
        [alarm] = province.alarms
        assert alarm.plate == PLATE and alarm.warn_type == OVERSPEED
        # The province goes away for a while: what is published meanwhile arrives after.
        await province.stop()
        await publish(100)
        await asyncio.sleep(1.5)
        await province.start()
        await until(all_received, 40)
        # The client restarts: it resumes at its committed offsets.
        stop.set()
        await task
        await publish(100)
        stop, task = await client()
        await until(all_received, 30)
        assert max(province.fixes.values()) <= 2  # at most the batch in flight again
        assert sum(province.fixes.values()) < len(sent) * 1.5
        assert len(province.alarms) == 1 and province.logins >= 3
        stop.set()
        await task
    finally:
        await publisher.close()
        await province.stop()
