"""A carrier's JT/T 809 platform for the simulator, the tests and the benchmark: one TCP
link that logs in, keeps the heartbeat and sends its vehicles' positions (0x1202, 0x1203)
in 2011 or 2019 layout, encrypted when given keys.

Built on the project's codec (`tracker.jt809`), so a test that passes shows the server
and the codec agree.
"""
from __future__ import annotations

import asyncio
import time

from tracker.jt809.codec import Frame, decode, encode
from tracker.jt809.crypto import Keys
from tracker.jt809.framing import FrameReader
from tracker.jt809.messages import (
    DYNAMIC,
    HEARTBEAT,
    HEARTBEAT_RESPONSE,
    LOGIN,
    LOGIN_RESPONSE,
    LOGOUT,
    LOGOUT_RESPONSE,
    Login,
    Logout,
    decode_login_response,
    encode_login,
    encode_logout,
)
from tracker.jt809.positions import Position, encode_backfill, encode_real_time

BLUE, YELLOW = 1, 2  # plate colours
POSITIONED = 0x02  # JT/T 808 status bit 1 (bit 0 is ACC on)


def position(plate: str, lat: float, lon: float, ts_ms: int, *, speed_kmh: float = 0.0, heading_deg: int = 0,
             colour: int = YELLOW, gcj02: bool = False, mileage_km: float | None = 1000.0) -> Position:
    """A position as a carrier's platform reports it (whole seconds, positioned, ACC on)."""
    return Position(plate, colour, ts_ms // 1000 * 1000, lat, lon, speed_kmh, heading_deg, 5, 0, POSITIONED | 1,
                    mileage_km, gcj02)


class PlatformError(RuntimeError):
    """The server closed the link or did not answer in time."""


class SubPlatform:
    def __init__(self, user_id: int, password: str, access_code: int, version: str = "2011", *,
                 keys: Keys | None = None, timeout_s: float = 15.0) -> None:
        self.user_id, self.password, self.access_code = user_id, password, access_code
        self.version, self.keys, self.timeout_s = version, keys, timeout_s
        self.serial = 0
        self.reader: asyncio.StreamReader | None = None
        self.writer: asyncio.StreamWriter | None = None
        self._frames = FrameReader()
        self._inbox: list[Frame] = []

    async def connect(self, host: str, port: int) -> "SubPlatform":
        self.reader, self.writer = await asyncio.open_connection(host, port)
        return self

    def frame(self, msg_id: int, body: bytes, *, encrypt: bool = True) -> bytes:
        self.serial += 1
        keys = self.keys if encrypt else None
        return encode(msg_id, body, version=self.version, serial=self.serial, access_code=self.access_code,
                      time_s=_now_s() if self.version == "2019" else None, keys=keys,
                      key=self.serial * 7919 if keys else 0)

    async def send_raw(self, data: bytes) -> None:
        self.writer.write(data)
        await self.writer.drain()

    async def send(self, msg_id: int, body: bytes) -> None:
        await self.send_raw(self.frame(msg_id, body))

    async def login(self, password: str | None = None) -> int:
        """0x1001 -> the 0x1002 result (0 ok)."""
        body = encode_login(Login(self.user_id, self.password if password is None else password, "127.0.0.1", 0,
                                  self.access_code if self.version == "2019" else None), self.version)
        await self.send(LOGIN, body)
        return decode_login_response(await self.expect(LOGIN_RESPONSE)).result

    async def heartbeat(self) -> None:
        await self.send(HEARTBEAT, b"")
        await self.expect(HEARTBEAT_RESPONSE)

    async def logout(self) -> None:
        await self.send(LOGOUT, encode_logout(Logout(self.user_id, self.password)))
        await self.expect(LOGOUT_RESPONSE)

    async def real_time(self, p: Position) -> None:
        """0x1202 (no answer: JT/T 809 acknowledges no position)."""
        await self.send(DYNAMIC, encode_real_time(p, self.version))

    async def backfill(self, positions: list[Position]) -> None:
        """0x1203 with 1-5 positions of one vehicle."""
        await self.send(DYNAMIC, encode_backfill(positions, self.version))

    async def expect(self, msg_id: int) -> Frame:
        """The next frame of `msg_id` from the server (others are kept aside)."""
        try:
            return await asyncio.wait_for(self._next(msg_id), self.timeout_s)
        except asyncio.TimeoutError:
            raise PlatformError(f"no 0x{msg_id:04X} within {self.timeout_s} s") from None

    async def _next(self, msg_id: int) -> Frame:
        while True:
            for frame in self._inbox:
                if frame.msg_id == msg_id:
                    self._inbox.remove(frame)
                    return frame
            data = await self.reader.read(4096)
            if not data:
                raise PlatformError("the server closed the link")
            for wire in self._frames.feed(data):
                if isinstance(wire, bytes):
                    self._inbox.append(decode(wire, self.version, self.keys))

    async def closed(self) -> bool:
        """True once the server has closed the link (reads what is left)."""
        try:
            while await asyncio.wait_for(self.reader.read(4096), self.timeout_s):
                pass
        except ConnectionError:
            return True
        except asyncio.TimeoutError:
            return False
        return True

    async def close(self) -> None:
        if self.writer is not None:
            self.writer.close()
            try:
                await self.writer.wait_closed()
            except (ConnectionError, OSError):
                pass


def _now_s() -> int:
    return int(time.time())
